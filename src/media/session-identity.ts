import type { SessionCreatedInfo } from "../bridge/bridge-client-types.js";

/**
 * The fields of SessionCreated a resumed session repeats unchanged (proto "Reconnects": the
 * session's media_session_id, contexts, mp_uri, versions and media_configuration_json). A host
 * that answers a resume with other values created a new session (it was restarted, or the
 * platform ended the old one): Graph bound the call to the old session's contexts, so the call
 * is not bound to the new one. GUIDs compare case-insensitively.
 */
const GUID_FIELDS = ["mediaSessionId", "audioRenderContextId", "audioSourceContextId"] as const;
const EXACT_FIELDS = [
  "callId",
  "mpUri",
  "skypeMediaBotsVersion",
  "mediaStackVersion",
  "mpVersion",
  "mediaConfigurationJson",
] as const;

/** Names of the fields in which `resumed` is not the `kept` session (empty: the same session). */
export function sessionChanges(kept: SessionCreatedInfo, resumed: SessionCreatedInfo): string[] {
  const changed: string[] = [];
  for (const name of GUID_FIELDS) {
    if (kept[name].toLowerCase() !== resumed[name].toLowerCase()) changed.push(name);
  }
  for (const name of EXACT_FIELDS) {
    if (kept[name] !== resumed[name]) changed.push(name);
  }
  return changed;
}
