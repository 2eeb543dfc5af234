-- Argo CD health check for multiarch.dev/MultiArchBuild. Install it in argocd-cm as
--   resource.customizations.health.multiarch.dev_MultiArchBuild: |
--     <this file>
-- Healthy: Ready for the current generation; an index without some optional platforms (condition Degraded=True)
-- stays Healthy and says so in its message. Degraded: Stalled (the build failed; a spec change builds again).
-- Progressing: anything else, including a status that describes an older generation.
local hs = {}
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "waiting for multiarch-controller to pick the build up"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "waiting for multiarch-controller to build generation " .. tostring(obj.metadata.generation)
  return hs
end
local ready = nil
local partial = nil
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Stalled" and condition.status == "True" then
      hs.status = "Degraded"
      hs.message = condition.message or condition.reason or "the build failed"
      return hs
    end
    if condition.type == "Ready" then
      ready = condition
    end
    if condition.type == "Degraded" and condition.status == "True" then
      partial = condition
    end
  end
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = obj.status.image or ready.message or "built"
  if partial ~= nil then
    hs.message = "partial index: " .. (partial.message or partial.reason) .. "; " .. hs.message
  end
  return hs
end
hs.status = "Progressing"
hs.message = (obj.status.phase or "Pending") .. ": " .. ((ready ~= nil and ready.message) or obj.status.message or "building")
return hs
