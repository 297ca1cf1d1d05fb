# scripts/bench: report.json from one run's figures (scripts/bench render
# passes them: $runs, the wrk and pgbench runs by name; $settings, $machine,
# $kdf, $rss, the checks and the profile). report-text.jq prints it.
def r(x): if x == null then null else ((x * 10 | round) / 10) end;
def ratio(a; b): if a == null or b == null or b == 0 then null else ((a / b * 1000 | round) / 1000) end;
# wrk leaves answers slower than its timeout out of the latency figures
# (they count as timeouts): with none faster, there are no figures.
def lat(x): if (.tool == "wrk") and (.requests - .errors.timeout) <= 0 then null else x end;
def row(n): $runs[n] | {rps: r(.rps), p50_ms: lat(.latency_ms.p50), p99_ms: lat(.latency_ms.p99),
    p99_9_ms: lat(.latency_ms.p99_9), max_ms: lat(.latency_ms.max), errors: .errors.total,
    timeouts: .errors.timeout,
    requests: .requests, connections: .connections, cpu_us_per_request: .cpu.per_request_us,
    machine_busy_pct: r(.cpu.machine_busy_pct), other_cpu_ms: r(.cpu.other_ms),
    others_pct: r(.cpu.others_pct)};
def scen(n; ceil):
    row(n) + {pgbench: (if ceil then row(ceil) else null end),
      of_pgbench: (if ceil then ratio($runs[n].rps; $runs[ceil].rps) else null end),
      of_nginx: ratio($runs[n].rps; $runs["nginx"].rps)};
def rssmax(s): s.workers | map(.rss_kib) | max;
def anonmax(s): s.workers | map(.anon_kib) | max;
# The reference: the last sample before the extra load (every scenario
# has run, so every buffer has met its largest answer), or the first past
# 100k requests if that comes later.
(($rss | map(select(.after != "mixed")) | last) as $pre |
  if $pre.requests >= 100000 then $pre
  else ($rss | map(select(.requests >= 100000)) | first) end) as $r100 |
($rss | last) as $rlast |
{
  stamp: $stamp, commit: $commit, dirty_tree: ($dirty == "yes"), machine: $machine,
  settings: $settings,
  scenarios: {
    list: scen("list"; "list-pgbench"),
    list_low: row("list-low"),
    current_session: scen("current"; "current-pgbench"),
    revoke: (scen("revoke"; "revoke-pgbench") + {audit: $runs["revoke"].audit,
        wal: $runs["revoke"].wal, pgbench_wal: $runs["revoke-pgbench"].wal,
        pgbench_audit_rows: $runs["revoke-pgbench"].audit.audit_rows,
        pgbench_revoked_nothing: ($runs["revoke-pgbench"].transactions_total - $runs["revoke-pgbench"].audit.audit_rows)}),
    login: (row("login") + {of_nginx: ratio($runs["login"].rps; $runs["nginx"].rps),
        kdf_ms: $kdf, latency_alone_ms: $runs["login-1conn"].latency_ms.p50,
        hashing_workers: (if ($settings.login_workers // 0) > 0 then $settings.login_workers else $settings.sessiond_workers end),
        logins_per_s_per_core: r($runs["login"].rps /
            (if ($settings.login_workers // 0) > 0 then $settings.login_workers else $settings.sessiond_workers end))}),
    login_storm: {list: row("storm-list"),
        logins: (row("storm-login") + {ok_rps: r(($runs["storm-login"].requests - $runs["storm-login"].errors.status) / $runs["storm-login"].duration_s),
            statuses: $runs["storm-login"].statuses,
            hashes: $runs["storm-login"].hashes, hash_seconds: $runs["storm-login"].hash_seconds}),
        # What the pool can hash: one KDF run per worker at a time.
        capacity_per_s: r(1000 / $kdf * (if ($settings.login_workers // 0) > 0 then $settings.login_workers else $settings.sessiond_workers end)),
        of_capacity: ratio(($runs["storm-login"].requests - $runs["storm-login"].errors.status) / $runs["storm-login"].duration_s;
            1000 / $kdf * (if ($settings.login_workers // 0) > 0 then $settings.login_workers else $settings.sessiond_workers end)),
        # Of the hashes run, the share that went to logins answered 200.
        answered_of_hashes: (if ($runs["storm-login"].hashes // 0) > 0
            then ratio(($runs["storm-login"].statuses["200"] // 0); $runs["storm-login"].hashes) else null end),
        list_p99_ratio_to_alone: (if ($runs["storm-list"].requests - $runs["storm-list"].errors.timeout) <= 0 then null
            else ratio($runs["storm-list"].latency_ms.p99; $runs["list"].latency_ms.p99) end),
        list_rps_ratio_to_alone: ratio($runs["storm-list"].rps; $runs["list"].rps)}
  },
  quietness: {max_pct: $quiet_max, idle_others_pct: r($idle[0].others_pct), idle_machine_busy_pct: r($idle[0].machine_busy_pct),
    runs: ([("nginx", "list-pgbench", "current-pgbench", "list", "current", "list-noka", "current-noka") as $n
      | select($runs[$n] != null) | {key: $n, value: {others_pct: r($runs[$n].cpu.others_pct),
        attempts_others_pct: ($runs[$n].quiet.attempts_others_pct // [] | map(r(.))),
        disturbed: ($runs[$n].quiet.disturbed // (($runs[$n].cpu.others_pct // 0) > $quiet_max))}}] | from_entries)},
  keepalive: (if $runs["list-noka"] == null then null else
    {list: {on: row("list"), off: row("list-noka"), rps_on_over_off: ratio($runs["list"].rps; $runs["list-noka"].rps)},
     current_session: {on: row("current"), off: row("current-noka"), rps_on_over_off: ratio($runs["current"].rps; $runs["current-noka"].rps)}} end),
  ceilings: {nginx: row("nginx"), list_pgbench: row("list-pgbench"),
    current_pgbench: row("current-pgbench"), revoke_pgbench: row("revoke-pgbench")},
  growth: {
    sessions_per_user: [1, 10, 100] | map(. as $n | {sessions: $n} + row("list-sessions-\($n)")),
    table_rows: [{rows: $rows_small} + row("list-table-small") + {pg_background: $runs["list-table-small"].pg_background},
      {rows: $rows_large} + row("list-table-large") + {pg_background: $runs["list-table-large"].pg_background}],
    # The large table right after its bulk fill, before settle: what the
    # earlier reports measured as the large point.
    table_large_fresh: (if $runs["list-table-large-fresh"] == null then null else
      {rows: $rows_large} + row("list-table-large-fresh") + {pg_background: $runs["list-table-large-fresh"].pg_background,
       over_small_p50: ratio($runs["list-table-large-fresh"].latency_ms.p50; $runs["list-table-small"].latency_ms.p50)} end),
    large_over_small_p50: ratio($runs["list-table-large"].latency_ms.p50; $runs["list-table-small"].latency_ms.p50),
    large_over_small_p99: ratio($runs["list-table-large"].latency_ms.p99; $runs["list-table-small"].latency_ms.p99)
  },
  checks: {list: $ck_list[0], current_session: $ck_current[0], revoke: $ck_revoke[0]},
  memory: {samples: $rss,
    requests_at_100k: $r100.requests,
    rss_kib_at_100k: (if $r100 then rssmax($r100) else null end),
    rss_kib_at_end: rssmax($rlast), anon_kib_at_100k: (if $r100 then anonmax($r100) else null end),
    anon_kib_at_end: anonmax($rlast), requests_at_end: $rlast.requests,
    login_rss_kib_at_end: ($rlast.login_workers // [] | map(.rss_kib) | max)},
  profile: {functions: $profile[0], libraries: $profile_dso[0]},
  curves: ($runs | with_entries(select((.key | test("^(list|list-low|current|revoke|login|storm-list|nginx|list-pgbench|current-pgbench|revoke-pgbench)$"))
      and (.value | lat(true)) != null)) | map_values(.curve))
} as $rep |
$rep + {targets: [
  {target: "list >= 40% of its pgbench ceiling (ceiling \(if $rep.quietness.runs["list-pgbench"].disturbed then "DISTURBED" else "quiet" end))", value: $rep.scenarios.list.of_pgbench,
   met: ($rep.scenarios.list.of_pgbench >= 0.4 and ($rep.quietness.runs["list-pgbench"].disturbed | not))},
  {target: "list: worker CPU <= 60 us and nginx CPU <= 60 us per request",
   value: "worker \($rep.scenarios.list.cpu_us_per_request.sessiond | . * 10 | round / 10) us, nginx \($rep.scenarios.list.cpu_us_per_request.nginx | . * 10 | round / 10) us",
   met: ($rep.scenarios.list.cpu_us_per_request.sessiond <= 60 and $rep.scenarios.list.cpu_us_per_request.nginx <= 60)},
  {target: "list p99 <= 5 ms at \($settings.connections) connections", value: $rep.scenarios.list.p99_ms,
   met: ($rep.scenarios.list.p99_ms <= 5)},
  {target: "list: zero errors", value: $rep.scenarios.list.errors, met: ($rep.scenarios.list.errors == 0)},
  {target: "current-session >= 25% of its pgbench ceiling (ceiling \(if $rep.quietness.runs["current-pgbench"].disturbed then "DISTURBED" else "quiet" end))", value: $rep.scenarios.current_session.of_pgbench,
   met: ($rep.scenarios.current_session.of_pgbench >= 0.25 and ($rep.quietness.runs["current-pgbench"].disturbed | not))},
  {target: "revoke >= 60% of its pgbench ceiling", value: $rep.scenarios.revoke.of_pgbench,
   met: ($rep.scenarios.revoke.of_pgbench >= 0.6)},
  {target: "revoke: zero lost audit rows (revoked == audit rows == 204s + 499s), zero errors",
   value: "lost \($rep.scenarios.revoke.audit.lost), unaccounted \($rep.scenarios.revoke.audit.unaccounted), errors \($rep.scenarios.revoke.errors)",
   met: ($rep.scenarios.revoke.audit.lost == 0 and $rep.scenarios.revoke.audit.unaccounted == 0 and $rep.scenarios.revoke.errors == 0)},
  {target: "list: one round trip (1 transaction per request)", value: $rep.checks.list.round_trips_per_request,
   met: ($rep.checks.list.round_trips_per_request <= 1.05)},
  {target: "current-session: one round trip (1 transaction per request)", value: $rep.checks.current_session.round_trips_per_request,
   met: ($rep.checks.current_session.round_trips_per_request <= 1.05)},
  {target: "last-seen written at most once a minute per session", value: $rep.checks.list.session_row_updates,
   met: ($rep.checks.list.session_row_updates <= $settings.connections and $rep.checks.current_session.session_row_updates <= $settings.connections)},
  {target: "login storm: >= 90% of the pool's hashing capacity goes to answered logins", value: $rep.scenarios.login_storm.of_capacity,
   met: ($rep.scenarios.login_storm.of_capacity != null and $rep.scenarios.login_storm.of_capacity >= 0.9)},
  {target: "login storm: every login answered (done or refused) within 2 s (p99)", value: $rep.scenarios.login_storm.logins.p99_ms,
   met: ($rep.scenarios.login_storm.logins.p99_ms != null and $rep.scenarios.login_storm.logins.p99_ms <= 2000 and $rep.scenarios.login_storm.logins.timeouts == 0)},
  {target: "login storm: list beside it keeps >= 80% of its rate alone", value: $rep.scenarios.login_storm.list_rps_ratio_to_alone,
   met: ($rep.scenarios.login_storm.list_rps_ratio_to_alone >= 0.8)},
  {target: "a login storm does not starve list (beside it: >= 50% of list alone req/s, p99 within 2x, no errors)",
   value: "\($rep.scenarios.login_storm.list.rps) req/s, p99 \($rep.scenarios.login_storm.list.p99_ms // "> 5000") ms, \($rep.scenarios.login_storm.list.errors) errors (\($rep.scenarios.login_storm.list.timeouts) over 5 s)",
   met: ($rep.scenarios.login_storm.list.p99_ms != null and $rep.scenarios.login_storm.list_rps_ratio_to_alone >= 0.5 and $rep.scenarios.login_storm.list_p99_ratio_to_alone <= 2 and $rep.scenarios.login_storm.list.errors == 0)},
  {target: "worker RSS <= 8 MiB", value: r($rep.memory.rss_kib_at_end / 1024), met: ($rep.memory.rss_kib_at_end <= 8192)},
  {target: "worker RSS after \($rep.memory.requests_at_end) requests == after \($rep.memory.requests_at_100k) (every scenario run; within 256 KiB)",
   value: (if $rep.memory.rss_kib_at_100k then $rep.memory.rss_kib_at_end - $rep.memory.rss_kib_at_100k else null end),
   met: ($rep.memory.rss_kib_at_100k != null and ($rep.memory.rss_kib_at_end - $rep.memory.rss_kib_at_100k) <= 256)},
  {target: "list latency at \($rows_large) rows within 1.3x of \($rows_small) (p50)", value: $rep.growth.large_over_small_p50,
   met: ($rep.growth.large_over_small_p50 <= 1.3)},
  {target: "the ceilings run the statements sessiond runs", value: ([$rep.checks[] | .parity] | all),
   met: ([$rep.checks[] | .parity] | all)}
]}
