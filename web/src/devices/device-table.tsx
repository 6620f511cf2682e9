import type { DeviceView } from '../api/types';
import { formatAgo } from '../format/format';
import { href } from '../router/hash-route';
import { EmptyState } from '../ui/empty-state';
import { OnlineDot } from './online-dot';

interface Props {
  devices: DeviceView[];
  filtered: boolean;
  onTag: (tag: string) => void;
}

export function DeviceTable({ devices, filtered, onTag }: Props) {
  if (devices.length === 0) {
    return filtered ? (
      <EmptyState title="No device matches these filters">Clear a filter to see more.</EmptyState>
    ) : (
      <EmptyState title="No devices registered yet">
        Register one with <code>tiota device add &lt;id&gt; --tag &lt;tag&gt;</code>; it shows up
        here and comes online when it connects.
      </EmptyState>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th>Device</th>
            <th>Running</th>
            <th className="wide-only">Tags</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((d) => (
            <tr key={d.id} className={d.revoked ? 'row--dim' : undefined}>
              <td>
                <OnlineDot online={d.online} />
                <a href={href(['devices', d.id])}>{d.id}</a>
                {d.revoked && <span className="tag tag--bad">revoked</span>}
              </td>
              <td>
                {d.app ? (
                  `${d.app} ${d.version ?? ''}`
                ) : (
                  <span className="muted">not connected yet</span>
                )}
              </td>
              <td className="wide-only">
                {d.tags.map((tag) => (
                  <button
                    key={tag}
                    type="button"
                    className="tag tag--button"
                    onClick={() => onTag(tag)}
                  >
                    {tag}
                  </button>
                ))}
              </td>
              <td>{d.online ? 'online now' : formatAgo(d.lastSeenAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
