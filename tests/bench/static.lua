-- wrk: GET $BENCH_PATH without a cookie: nginx alone answering a fixed
-- JSON body (the ceiling), or /healthz.
local lib = dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
lib.install()
lib.get(os.getenv("BENCH_PATH") or "/")
