import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/test-server.js';

async function occupiedPort(): Promise<{ port: number; close(): Promise<void> }> {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return {
    port: (holder.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => holder.close(() => resolve())),
  };
}

describe('a port that is already taken', () => {
  it('stops the embedded broker with a message naming the port and the option', async () => {
    const taken = await occupiedPort();
    try {
      await expect(startTestServer({ config: { mqttPort: String(taken.port) } })).rejects.toThrow(
        new RegExp(
          `port ${taken.port} for the embedded MQTT broker is already in use.*--mqtt-port.*TIOTA_MQTT_PORT`,
        ),
      );
    } finally {
      await taken.close();
    }
  });

  it('stops the HTTP server with a message naming the port and the option', async () => {
    const taken = await occupiedPort();
    try {
      await expect(startTestServer({ config: { httpPort: String(taken.port) } })).rejects.toThrow(
        new RegExp(
          `port ${taken.port} for the HTTP server is already in use.*--http-port.*TIOTA_HTTP_PORT`,
        ),
      );
    } finally {
      await taken.close();
    }
  });
});

describe('the broker address given to devices', () => {
  it('is the one set with --public-mqtt-url', async () => {
    const server = await startTestServer({
      config: { publicMqttUrl: 'mqtt://ota.example.com:1883' },
    });
    try {
      const res = await server.api('POST', '/devices', { deviceId: 'mqtt-url-1' });
      expect(res.body.mqttUrl).toBe('mqtt://ota.example.com:1883');
    } finally {
      await server.stop();
    }
  });
});
