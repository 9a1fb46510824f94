-- wrk script for bench_oauth.py: RFC 7662 introspection requests, tokens in rotation.
--
--   wrk -t1 -c16 -d30s -s wrk_introspect.lua URL -- TOKENS_FILE REQUESTS
--
-- TOKENS_FILE: the resource server's Basic credential (base64 of id:secret)
-- on the first line, then one access token a line. Each request is
-- POST URL with a form body token=<token>. An answer counts as good only if
-- it is 200 and says "active":true, so every run times the whole path (a
-- token judged inactive would skip the store read). After REQUESTS answers
-- the script prints a summary line and ends the wrk process.
-- Use one thread (-t1): the count is per thread.

local credential = nil
local tokens = {}
local index = 0
local limit = 0
local received = 0
local bad = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      if credential == nil then
        credential = line
      else
        tokens[#tokens + 1] = line
      end
    end
  end
  if credential == nil or #tokens == 0 then
    error("no credential or no tokens in " .. args[1])
  end
  limit = tonumber(args[2]) or 0
end

function request()
  index = index % #tokens + 1
  return wrk.format("POST", nil, {
    ["Authorization"] = "Basic " .. credential,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "token=" .. tokens[index])
end

function response(status, headers, body)
  received = received + 1
  if status ~= 200 or not string.find(body, '"active":true', 1, true) then
    bad = bad + 1
  end
  if limit > 0 and received >= limit then
    io.write(string.format("tokens-done requests=%d non2xx=%d\n", received, bad))
    io.stdout:flush()
    os.exit(bad == 0 and 0 or 3)
  end
end
