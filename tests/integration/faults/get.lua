-- faults/get.lua: wrk script for test_faults.sh. Authenticated GETs of
-- FAULT_PATH (default the current session) with the cookie FAULT_COOKIE;
-- FAULT_CLOSE=1 asks for one connection per request. At the end one line
-- of figures:
--   requests=N ok=N bad=N connect=N read=N write=N timeout=N status=CODE:N,...
-- "ok" counts answers with status FAULT_OK (default 200), "bad" every
-- other answer plus every socket error.

local cookie = os.getenv("FAULT_COOKIE")
local want = tonumber(os.getenv("FAULT_OK") or "200")
local threads = {}

wrk.method = "GET"
wrk.path = os.getenv("FAULT_PATH") or "/api/users/me/current-session/"
if cookie ~= nil and cookie ~= "" then
	wrk.headers["Cookie"] = "sid=" .. cookie
end

if os.getenv("FAULT_CLOSE") == "1" then
	wrk.headers["Connection"] = "close"
end

counts = {}

function setup(thread)
	table.insert(threads, thread)
end

function response(status, headers, body)
	counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
	local total, good, other = {}, 0, 0
	for _, t in ipairs(threads) do
		for code, n in pairs(t:get("counts")) do
			total[code] = (total[code] or 0) + n
		end
	end
	local list = {}
	for code, n in pairs(total) do
		if code == want then
			good = good + n
		else
			other = other + n
		end
		table.insert(list, code .. ":" .. n)
	end
	table.sort(list)
	local e = summary.errors
	io.write(string.format("requests=%d ok=%d bad=%d connect=%d read=%d " ..
	    "write=%d timeout=%d p99_ms=%.1f status=%s\n", summary.requests,
	    good, other + e.connect + e.read + e.write + e.timeout, e.connect,
	    e.read, e.write, e.timeout, latency:percentile(99) / 1000,
	    table.concat(list, ",")))
end
