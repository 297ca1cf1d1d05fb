-- wrk: GET /api/users/me/current-session/ as the users of $BENCH_COOKIES
-- in turn: the session check alone, plus the JSON answer.
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
lib.install()
lib.get("/api/users/me/current-session/")
