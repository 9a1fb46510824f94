-- wrk script for bench_http.py: bearer tokens in rotation, and a fixed request count.
--
--   wrk -t1 -c16 -d30s -s wrk_tokens.lua URL -- TOKENS_FILE REQUESTS
--
-- TOKENS_FILE holds one token a line (one line: the same token repeated).
-- After REQUESTS responses the script prints a summary line and ends the wrk
-- process (wrk itself would idle until -d is over), so a run is "N requests"
-- and its wall time compares across servers; -d only bounds it in time.
-- Use one thread (-t1): the count is per thread.

local tokens = {}
local index = 0
local limit = 0
local received = 0
local bad = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      tokens[#tokens + 1] = line
    end
  end
  if #tokens == 0 then
    error("no tokens in " .. args[1])
  end
  limit = tonumber(args[2]) or 0
end

function request()
  index = index % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[index] })
end

function response(status, headers, body)
  received = received + 1
  if status < 200 or status > 299 then
    bad = bad + 1
  end
  if limit > 0 and received >= limit then
    io.write(string.format("tokens-done requests=%d non2xx=%d\n", received, bad))
    io.stdout:flush()
    os.exit(bad == 0 and 0 or 3)
  end
end
