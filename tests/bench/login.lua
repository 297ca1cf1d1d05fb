-- wrk: POST /api/auth/login/ with the right password, as the users named
-- in $BENCH_USERS (one per line) in turn. Every answer costs one password
-- hash (scrypt) in a sessiond worker; every success creates a session.
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
lib.install()

local reqs, n, i

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
end

function request()
	i = i % n + 1
	return reqs[i]
end
