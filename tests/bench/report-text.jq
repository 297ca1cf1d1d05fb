# scripts/bench: report.txt, the table printed at the end of a run, from
# report.json (report.jq).
def f(x): if x == null then "-" elif (x | type) == "number" then
    (if x >= 100 then (x | round | tostring) else ((x * 100 | round) / 100 | tostring) end)
    else (x | tostring) end;
def pct(x): if x == null then "-" else ((x * 1000 | round) / 10 | tostring) + "%" end;
def pad(n): tostring | if length >= n then . else . + (" " * (n - length)) end;
def lpad(n): tostring | if length >= n then . else (" " * (n - length)) + . end;
# PostgreSQL's background work during a run.
def bg(b): if b == null then "" else "  pg: \(b.checkpoint_buffers) checkpoint buffers, \(b.autovacuums) autovacuums done, \(b.autovacuum_running) running" end;
def line(name; s): "\(name | pad(22)) \(f(s.rps) | lpad(9)) \(f(s.p50_ms) | lpad(8)) \(f(s.p99_ms) | lpad(8)) \(f(s.p99_9_ms) | lpad(8)) \(f(s.errors) | lpad(6)) \(if s.others_pct == null then "" else "\(s.others_pct | round)%" end | lpad(6))";
. as $r |
"sessiond benchmark \(.stamp)  commit \(.commit)\(if .dirty_tree then " (uncommitted changes)" else "" end)",
"machine: \(.machine.cpus) x \(.machine.cpu), \(.machine.memory), \(.machine.os), kernel \(.machine.kernel)",
"         PostgreSQL \(.machine.postgresql), nginx \(.machine.nginx), wrk \(.machine.wrk); load average at the end \(.machine.loadavg_at_end)",
"settings: \(.settings.connections) connections, \(.settings.warmup_s) s warm-up + \(.settings.duration_s) s per scenario, \(.settings.sessiond_workers) sessiond workers = pgbench connections, \(.settings.login_workers // 0) login workers, FastCGI keep-alive \(if .settings.fastcgi_keepalive == false then "off" else "on" end)",
"",
"(others: share of the machine's CPU that other processes used during the run)",
"scenario                     req/s  p50 ms   p99 ms  p99.9 ms errors others  of pgbench  of nginx",
(["list", .scenarios.list], ["current-session", .scenarios.current_session],
 ["revoke", .scenarios.revoke], ["login", .scenarios.login] |
 line(.[0]; .[1]) + "  \(pct(.[1].of_pgbench) | lpad(10))  \(pct(.[1].of_nginx) | lpad(8))"),
line("list, \(.scenarios.list_low.connections) connections"; .scenarios.list_low),
"",
"quietness: with the stack idle, others used \(f(.quietness.idle_others_pct))% of the machine; a run is disturbed above \(f(.quietness.max_pct))% (then run again, the quietest counts)",
(.quietness.runs | to_entries[] | "  \(.key | pad(18)) others \(f(.value.others_pct))%\(if (.value.attempts_others_pct | length) > 1 then " (attempts: \(.value.attempts_others_pct | map(f(.)) | join(", "))%)" else "" end)\(if .value.disturbed then "  DISTURBED" else "" end)"),
"",
(if .keepalive == null then empty else
 "FastCGI keep-alive, on against off in this run (req/s, p99 ms; CPU per request us nginx / sessiond / postgres / wrk)",
 (["list", .keepalive.list], ["current-session", .keepalive.current_session] |
  "  \(.[0] | pad(16)) on \(f(.[1].on.rps)) req/s p99 \(f(.[1].on.p99_ms)), \(.[1].on.cpu_us_per_request | "\(f(.nginx)) / \(f(.sessiond)) / \(f(.postgres)) / \(f(.client))");  off \(f(.[1].off.rps)) req/s p99 \(f(.[1].off.p99_ms)), \(.[1].off.cpu_us_per_request | "\(f(.nginx)) / \(f(.sessiond)) / \(f(.postgres)) / \(f(.client))");  on/off \(f(.[1].rps_on_over_off))x"),
 "" end),
"ceiling",
line("nginx alone"; .ceilings.nginx),
line("pgbench list"; .ceilings.list_pgbench),
line("pgbench current-session"; .ceilings.current_pgbench),
line("pgbench revoke"; .ceilings.revoke_pgbench),
"",
"login: KDF \(.scenarios.login.kdf_ms) ms (sessionctl, best of 3), one login alone \(f(.scenarios.login.latency_alone_ms)) ms, \(f(.scenarios.login.rps)) logins/s with \(.scenarios.login.hashing_workers) worker(s) hashing = \(f(.scenarios.login.logins_per_s_per_core)) per core",
"login storm (\(.settings.connections) connections logging in, a refused one back after Retry-After): \(f(.scenarios.login_storm.logins.ok_rps)) logins/s of a hashing capacity of \(f(.scenarios.login_storm.capacity_per_s)) (\(pct(.scenarios.login_storm.of_capacity))); answers \(.scenarios.login_storm.logins.statuses // {} | to_entries | map("\(.key) x\(.value)") | join(", ")), \(f(.scenarios.login_storm.logins.timeouts)) timed out; p50 \(f(.scenarios.login_storm.logins.p50_ms)) ms, p99 \(f(.scenarios.login_storm.logins.p99_ms)) ms; \(f(.scenarios.login_storm.logins.hashes)) hashes run, \(pct(.scenarios.login_storm.answered_of_hashes)) of them for logins answered 200",
line("  list beside it"; .scenarios.login_storm.list) + "  \(pct(.scenarios.login_storm.list_rps_ratio_to_alone)) of list alone, p99 \(f(.scenarios.login_storm.list_p99_ratio_to_alone))x",
"revoke: WAL flushes \(f(.scenarios.revoke.wal.syncs_per_request)) per request, \(f(.scenarios.revoke.wal.mean_sync_ms)) ms each (pgbench: \(f(.scenarios.revoke.pgbench_wal.syncs_per_request)), \(f(.scenarios.revoke.pgbench_wal.mean_sync_ms)) ms)",
"revoke pgbench: \(.scenarios.revoke.pgbench_revoked_nothing) transactions found no target left (0 = the seeded targets sufficed)",
"revoke (warm-up + measured): \(.scenarios.revoke.audit.answered_204) answered 204, \(.scenarios.revoke.audit.abandoned_499) left by wrk at the end (499), \(.scenarios.revoke.audit.sessions_revoked) sessions revoked, \(.scenarios.revoke.audit.audit_rows) audit rows: lost \(.scenarios.revoke.audit.lost), unaccounted \(.scenarios.revoke.audit.unaccounted)",
"",
"cost growth (list)",
(.growth.sessions_per_user[] | line("  \(.sessions) sessions/user"; .)),
(.growth.table_rows[] | line("  \(.rows) rows in table"; .) + bg(.pg_background)),
"  large table / small table: p50 \(f(.growth.large_over_small_p50))x, p99 \(f(.growth.large_over_small_p99))x",
(if .growth.table_large_fresh == null then empty else
 (.growth.table_large_fresh | line("  right after the fill"; .) + bg(.pg_background)),
 "    (the large table measured before the fill's vacuum and checkpoint were done: \(f(.growth.table_large_fresh.over_small_p50))x the small table's p50)" end),
"",
"round trips (pg_stat_statements, pg_stat_database)",
(.checks | to_entries[] | "  \(.key | pad(16)) \(f(.value.round_trips_per_request)) round trips/request (\(f(.value.transactions_per_request)) transactions), statements/request: \([.value.statements[] | select(.toplevel and .per_request >= 0.01) | "\(if .statement == "" then .sql[0:30] else .statement end) \(f(.per_request))"] | join(", ")); session row updates \(.value.session_row_updates) in \(.value.requests) requests; ceiling parity \(if .value.parity then "yes" else "NO" end)"),
"",
"CPU per request, microseconds (nginx / sessiond / postgres / load generator; other load on the machine)",
(["list", .scenarios.list], ["list, \(.scenarios.list_low.connections) connections", .scenarios.list_low],
 ["current-session", .scenarios.current_session], ["revoke", .scenarios.revoke],
 ["pgbench list", .ceilings.list_pgbench], ["pgbench current", .ceilings.current_pgbench],
 ["pgbench revoke", .ceilings.revoke_pgbench], ["nginx alone", .ceilings.nginx] |
 "  \(.[0] | pad(20)) \(.[1].cpu_us_per_request | if . == null then "-" else "\(f(.nginx)) / \(f(.sessiond)) / \(f(.postgres)) / \(f(.client))" end); machine \(f(.[1].machine_busy_pct))% busy, \(f(.[1].others_pct))% by others"),
"",
"worker memory (largest main worker): RSS \(f(.memory.rss_kib_at_100k)) KiB at \(.memory.requests_at_100k // "-") requests (every scenario run), \(f(.memory.rss_kib_at_end)) KiB at \(.memory.requests_at_end) (anonymous \(f(.memory.anon_kib_at_100k)) -> \(f(.memory.anon_kib_at_end)) KiB); login worker \(f(.memory.login_rss_kib_at_end)) KiB",
"",
"profile of one worker under list load (perf, self time)",
"  by library: \([.profile.libraries[:6][] | "\(.dso) \(.pct)%"] | join(", "))",
(.profile.functions[:15][] | "  \(.pct | tostring | lpad(6))%  \(.symbol)  [\(.dso)]"),
"",
"targets",
(.targets[] | "  \(if .met then "met   " else "MISSED" end)  \(.target): \(f(.value))")
