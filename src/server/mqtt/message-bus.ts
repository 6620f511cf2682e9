/**
 * How the server talks MQTT, whichever broker runs: the embedded Aedes (in-process) or an
 * external broker reached as a client (with shared subscriptions so replicas split traffic).
 */
export interface DeviceMessage {
  readonly topic: string;
  readonly payload: Buffer;
}

export interface MessageBus {
  /** QoS 1 publish to a device topic. */
  publish(topic: string, payload: string): Promise<void>;
  /** Receives every device → server message (hello, status, presence). */
  onDeviceMessage(handler: (message: DeviceMessage) => void): void;
  /** Cuts a device's connection (after revocation), where the broker allows it. */
  disconnect(deviceId: string): void;
  close(): Promise<void>;
}
