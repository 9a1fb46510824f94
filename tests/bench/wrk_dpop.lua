-- wrk script for bench_dpop.py: DPoP-bound requests, each with a proof of its own.
--
--   wrk -t1 -c16 -d30s -s wrk_dpop.lua URL -- PROOFS_FILE REQUESTS
--
-- PROOFS_FILE: the access token on the first line, then one proof a line,
-- each signed for GET URL with that token's ath. A proof is sent once (the
-- server refuses a replay); running out of proofs is an error. After REQUESTS
-- responses the script prints a summary line and ends the wrk process.

local token = nil
local proofs = {}
local index = 0
local limit = 0
local received = 0
local bad = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      if token == nil then
        token = line
      else
        proofs[#proofs + 1] = line
      end
    end
  end
  if token == nil or #proofs == 0 then
    error("no token or no proofs in " .. args[1])
  end
  limit = tonumber(args[2]) or 0
end

function request()
  index = index + 1
  if index > #proofs then
    error("out of proofs: a proof is never sent twice")
  end
  return wrk.format("GET", nil, { ["Authorization"] = "DPoP " .. token, ["DPoP"] = proofs[index] })
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
