-- wrk script for bench_http.py: POST /refresh, each answer's successor sent next.
--
--   wrk -t1 -c16 -d30s -s wrk_refresh.lua URL -- TOKENS_FILE REQUESTS
--
-- TOKENS_FILE holds refresh tokens, one a line, more of them than connections.
-- Each request takes a token from the pool and each answer puts back the
-- successor its body names ("refresh_token"), so a rotated token is never
-- presented twice (no grace-window answers, no reuse detection). An answer
-- without a successor (a stateless refresh route) puts back a token of the
-- file, in turn. After REQUESTS answers it writes the pool back to TOKENS_FILE
-- (the next run starts from live successors; the tokens still in flight are
-- lost, so the file needs a few connections' worth per run), prints the
-- summary line and exits.
-- Use one thread (-t1): the pool and the count are per thread.

local pool = {}
local initial = {}
local next_initial = 0
local limit = 0
local path = nil
local received = 0
local bad = 0

function init(args)
  path = args[1]
  for line in io.lines(path) do
    if #line > 0 then
      pool[#pool + 1] = line
      initial[#initial + 1] = line
    end
  end
  if #pool == 0 then
    error("no tokens in " .. args[1])
  end
  limit = tonumber(args[2]) or 0
end

function request()
  local token = table.remove(pool, 1)
  if token == nil then
    next_initial = next_initial % #initial + 1
    token = initial[next_initial]
  end
  return wrk.format("POST", nil, { ["Authorization"] = "Bearer " .. token }, "")
end

function response(status, headers, body)
  received = received + 1
  if status < 200 or status > 299 then
    bad = bad + 1
  end
  local successor = body and string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if successor == nil then
    next_initial = next_initial % #initial + 1
    successor = initial[next_initial]
  end
  pool[#pool + 1] = successor
  if limit > 0 and received >= limit then
    local out = io.open(path .. ".partial", "w")
    out:write(table.concat(pool, "\n") .. "\n")
    out:close()
    os.rename(path .. ".partial", path)
    io.write(string.format("tokens-done requests=%d non2xx=%d\n", received, bad))
    io.stdout:flush()
    os.exit(bad == 0 and 0 or 3)
  end
end
