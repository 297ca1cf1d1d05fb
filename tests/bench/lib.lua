-- Shared by the wrk scripts of scripts/bench (docs/performance.md).
--
-- Each scenario script loads this file with dofile, builds its requests
-- from the files scripts/bench wrote, and leaves the reporting to done():
-- it writes the run's figures as JSON to $BENCH_WRK_OUT (counts, error
-- kinds, latency percentiles and the latency-by-percentile curve for the
-- plot, in milliseconds).
--
-- wrk runs one Lua state per thread: setup() numbers the threads so that
-- each walks its own slice of a list (thread k takes items k, k+T, ...).

local M = {}

M.threads = {}
M.nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")

-- A User-Agent as a browser sends it: sessiond stores and parses it.
M.ua = os.getenv("BENCH_UA") or
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

-- The non-empty lines of a file, each split on tabs.
function M.rows(path)
	local t = {}
	local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
	for line in f:lines() do
		if line ~= "" then
			local row = {}
			for field in string.gmatch(line, "[^\t]+") do
				row[#row + 1] = field
			end
			t[#t + 1] = row
		end
	end
	f:close()
	assert(#t > 0, "no rows in " .. path)
	return t
end

function M.headers(cookie, extra)
	local h = {
		["Host"] = "127.0.0.1:" .. (os.getenv("BENCH_HTTP_PORT") or "18480"),
		["User-Agent"] = M.ua,
		["Accept"] = "application/json",
	}
	if cookie then
		h["Cookie"] = "sid=" .. cookie
	end
	for k, v in pairs(extra or {}) do
		h[k] = v
	end
	return h
end

-- Install the global wrk callbacks that every scenario shares.
function M.install()
	local counter = 0
	function setup(thread)
		thread:set("tid", counter)
		counter = counter + 1
		table.insert(M.threads, thread)
	end

	function done(summary, latency, requests)
		M.report(summary, latency)
	end
end

-- Count answers by status (costs a Lua call per response: only where the
-- exact count matters, e.g. revoke's 204s against audit rows).
function M.count_statuses()
	counts = {}
	function response(status, headers, body)
		local k = "s" .. status
		counts[k] = (counts[k] or 0) + 1
	end
end

local function num(x)
	if x ~= x or x == math.huge or x == -math.huge then
		return "null"
	end
	return string.format("%.3f", x)
end

-- The percentiles of the curve in the plot: 0, 50, 75, 87.5, ... up to
-- 99.999 (each step halves what is left), then the maximum.
local function curve_points()
	local p = {0}
	local rest = 50
	while 100 - rest < 99.999 do
		p[#p + 1] = 100 - rest
		rest = rest / 2
	end
	p[#p + 1] = 99.999
	return p
end

function M.report(summary, latency)
	local out = os.getenv("BENCH_WRK_OUT")
	if out == nil or out == "" then
		return
	end
	local statuses = {}
	for _, t in ipairs(M.threads) do
		local c = t:get("counts")
		if c then
			for k, v in pairs(c) do
				statuses[k] = (statuses[k] or 0) + v
			end
		end
	end
	local st = {}
	for k, v in pairs(statuses) do
		st[#st + 1] = string.format('"%s": %d', string.sub(k, 2), v)
	end
	local dist = {}
	for _, p in ipairs(curve_points()) do
		dist[#dist + 1] = string.format("[%s, %s]", num(p),
		    num(latency:percentile(p) / 1000))
	end
	dist[#dist + 1] = string.format("[100, %s]", num(latency.max / 1000))
	local e = summary.errors
	local f = assert(io.open(out, "w"))
	f:write(string.format([[{
  "requests": %d,
  "duration_s": %s,
  "bytes": %d,
  "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d},
  "latency_ms": {"mean": %s, "stdev": %s, "p50": %s, "p90": %s, "p99": %s, "p99_9": %s, "max": %s},
  "statuses": {%s},
  "curve": [%s]
}
]], summary.requests, num(summary.duration / 1e6), summary.bytes,
	    e.connect, e.read, e.write, e.status, e.timeout,
	    num(latency.mean / 1000), num(latency.stdev / 1000),
	    num(latency:percentile(50) / 1000), num(latency:percentile(90) / 1000),
	    num(latency:percentile(99) / 1000), num(latency:percentile(99.9) / 1000),
	    num(latency.max / 1000), table.concat(st, ", "),
	    table.concat(dist, ", ")))
	f:close()
end

-- A GET of path as the signed-in users of $BENCH_COOKIES (one cookie per
-- line, first field), a different user on each request, in turn; without
-- BENCH_COOKIES, no cookie. Defines wrk's init() and request().
function M.get(path)
	local reqs, n, i
	function init(args)
		local file = os.getenv("BENCH_COOKIES")
		reqs = {}
		if file ~= nil and file ~= "" then
			for _, row in ipairs(M.rows(file)) do
				reqs[#reqs + 1] = wrk.format("GET", path,
				    M.headers(row[1]))
			end
		else
			reqs[1] = wrk.format("GET", path, M.headers(nil))
		end
		n = #reqs
		-- Threads start at different users.
		i = (tid * math.floor(n / M.nthreads)) % n
	end
	function request()
		i = i % n + 1
		return reqs[i]
	end
end

return M
