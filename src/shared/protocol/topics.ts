/**
 * MQTT topics (docs/protocol.md). One subtree per device under a versioned root; a device may
 * publish and subscribe only inside its own subtree (enforced by the broker's ACL).
 */
export const TOPIC_ROOT = 'tiota/v1/d';

/** Server → device: the latest command, retained, QoS 1. */
export const cmdTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/cmd`;
/** Device → server: sent on every connect with the app it runs. */
export const helloTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/hello`;
/** Device → server: progress and results of a command. */
export const statusTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/status`;
/** Device → server (usually the broker, as the last will): online/offline. */
export const presenceTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/presence`;

export type DeviceTopicKind = 'cmd' | 'hello' | 'status' | 'presence';
export const DEVICE_PUBLISHES: readonly DeviceTopicKind[] = ['hello', 'status', 'presence'];

/**
 * A device id is what the device's topic subtree is named after: it must not hold MQTT
 * wildcards or separators, and stays short enough for constrained clients.
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID_PATTERN.test(id);
}

/** Splits `tiota/v1/d/<id>/<kind>`; null for anything else. */
export function parseDeviceTopic(
  topic: string,
): { deviceId: string; kind: DeviceTopicKind } | null {
  if (!topic.startsWith(TOPIC_ROOT + '/')) return null;
  const rest = topic.slice(TOPIC_ROOT.length + 1).split('/');
  if (rest.length !== 2) return null;
  const [deviceId, kind] = rest;
  if (!isValidDeviceId(deviceId)) return null;
  if (kind !== 'cmd' && kind !== 'hello' && kind !== 'status' && kind !== 'presence') return null;
  return { deviceId, kind };
}
