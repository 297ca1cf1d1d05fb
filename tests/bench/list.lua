-- wrk: GET /api/auth/sessions/ (the first page) as the users of
-- $BENCH_COOKIES in turn; scripts/bench gives each of them 5 sessions
-- (or 1, 10, 100 for the cost-growth runs).
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
lib.install()
lib.get("/api/auth/sessions/")
