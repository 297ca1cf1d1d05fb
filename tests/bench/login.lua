-- wrk: POST /api/auth/login/ with the right password, as the users named
-- in $BENCH_USERS (one per line) in turn. Every answer costs one password
-- hash (scrypt) in a sessiond worker; every success creates a session.
-- A refusal (503 server_busy from the login queue, 429) asks the client
-- to come back after Retry-After: the next request waits that long (one
-- second), as a browser's login page does, rather than spinning.
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
lib.install()

local reqs, n, i
local backoff = 0

function init(args)
	local password = os.getenv("BENCH_PASSWORD")
	reqs = {}
	for _, row in ipairs(lib.rows(os.getenv("BENCH_USERS"))) do
		reqs[#reqs + 1] = wrk.format("POST", "/api/auth/login/",
		    lib.headers(nil, { ["Content-Type"] = "application/json" }),
		    string.format('{"username":"%s","password":"%s"}', row[1],
		    password))
	end
	n = #reqs
	i = (tid * math.floor(n / lib.nthreads)) % n
	counts = {}
end

function request()
	i = i % n + 1
	return reqs[i]
end

-- wrk asks delay() before each request of any connection of the thread:
-- one delayed request per refusal seen approximates each refused
-- connection waiting its Retry-After.
function delay()
	if backoff > 0 then
		backoff = backoff - 1
		return 1000
	end
	return 0
end

function response(status, headers, body)
	local k = "s" .. status
	counts[k] = (counts[k] or 0) + 1
	if status == 503 or status == 429 then
		backoff = backoff + 1
	end
end
