-- wrk: DELETE /api/auth/sessions/<id>/ with the CSRF header, each request
-- revoking a different, active session (a real 204). $BENCH_TARGETS holds
-- "cookie<TAB>csrf<TAB>target id" lines, the acting session and one of
-- its user's other sessions; thread k sends lines k, k+T, k+2T, ...
-- Past the end of the list a thread starts over, and those answers are
-- 404s, counted as errors: scripts/bench sizes the list so that this
-- does not happen.
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
lib.install()
lib.count_statuses()

local rows, n, i

function init(args)
	rows = lib.rows(os.getenv("BENCH_TARGETS"))
	n = #rows
	i = tid + 1
end

function request()
	local r = rows[(i - 1) % n + 1]
	i = i + lib.nthreads
	return wrk.format("DELETE", "/api/auth/sessions/" .. r[3] .. "/",
	    lib.headers(r[1], { ["X-CSRF-Token"] = r[2] }))
end
