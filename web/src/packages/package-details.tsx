import type { PackageView } from '../api/types';
import { formatBytes, formatDate } from '../format/format';
import { FieldList } from '../ui/field-list';
import { FieldRow } from '../ui/field-row';

/** Fields every package view has; anything else the server sends is listed after them. */
const SHOWN = [
  'id',
  'app',
  'version',
  'fileName',
  'size',
  'sha256',
  'kind',
  'tapk',
  'signature',
  'signingKeyId',
  'createdAt',
  'createdBy',
  'rollouts',
];

export function PackageDetails({ pkg }: { pkg: PackageView }) {
  return (
    <section className="card">
      <h2>{pkg.tapk ? 'TiJOS package (.tapk)' : 'Firmware file'}</h2>
      <dl className="fields">
        {pkg.tapk && (
          <>
            <FieldRow label="App name">{pkg.tapk.name}</FieldRow>
            <FieldRow label="Description">{pkg.tapk.description || '—'}</FieldRow>
            <FieldRow label="Build time">
              {formatDate(pkg.tapk.buildTime * 1000)}{' '}
              <span className="muted">({pkg.tapk.buildTimeIso})</span>
            </FieldRow>
            <FieldRow label="CRC-16">
              <code>{pkg.tapk.crc}</code> <span className="muted">checked on upload</span>
            </FieldRow>
          </>
        )}
        <FieldRow label="Size">
          {formatBytes(pkg.size)} <span className="muted">({pkg.size.toLocaleString()} bytes)</span>
        </FieldRow>
        <FieldRow label="SHA-256">
          <code className="hash">{pkg.sha256}</code>
        </FieldRow>
        <FieldRow label="File name">{pkg.fileName}</FieldRow>
        <FieldRow label="Signing key">
          <code>{pkg.signingKeyId}</code>
        </FieldRow>
        <FieldRow label="Uploaded">
          {formatDate(pkg.createdAt)} by {pkg.createdBy}
        </FieldRow>
      </dl>
      <FieldList fields={pkg} skip={SHOWN} />
    </section>
  );
}
