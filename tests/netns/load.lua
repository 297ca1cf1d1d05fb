-- tests/netns/load.lua: wrk's request mix for the topology test.
--
-- Signed-in traffic as the service sees it: mostly the session check
-- (GET current-session), some lists, and one request in twenty a revoke
-- of an unknown session id: a DELETE that takes the user's lock and
-- commits on the primary (with remote_apply) and answers 404. Every
-- request carries X-Load-Phase, which nginx's test log records, so that
-- run.sh counts statuses per phase and method from the log.
--
-- LOAD_SESSIONS: a file of "session-id cookie csrf-token" lines.
-- LOAD_PHASE: the name of this run in the log.

local sessions = {}
local phase = os.getenv("LOAD_PHASE") or "load"
local n = 0

for line in io.lines(os.getenv("LOAD_SESSIONS")) do
	local id, cookie, csrf = line:match("^(%S+) (%S+) (%S+)$")
	if id then
		sessions[#sessions + 1] = { cookie = cookie, csrf = csrf }
	end
end

-- Each thread runs this file; seed each differently.
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16))

local function uuid()
	return string.format("%08x-%04x-4%03x-a%03x-%06x%06x",
	    math.random(0, 0xffffffff), math.random(0, 0xffff),
	    math.random(0, 0xfff), math.random(0, 0xfff),
	    math.random(0, 0xffffff), math.random(0, 0xffffff))
end

request = function()
	n = n + 1
	local s = sessions[n % #sessions + 1]
	local h = { ["Cookie"] = s.cookie, ["X-Load-Phase"] = phase }
	local r = n % 20
	if r == 0 then
		h["X-CSRF-Token"] = s.csrf
		return wrk.format("DELETE", "/api/auth/sessions/" .. uuid() .. "/",
		    h)
	elseif r <= 2 then
		return wrk.format("GET", "/api/auth/sessions/?limit=10", h)
	end
	return wrk.format("GET", "/api/users/me/current-session/", h)
end
