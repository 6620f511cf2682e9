import { useRef, useState, type FormEvent } from 'react';
import { useApi } from '../api/api-context';
import type { PackageView } from '../api/types';
import { uploadPackage, type UploadHandle } from '../api/upload-package';
import { formatBytes } from '../format/format';
import { ErrorNotice } from '../ui/error-notice';
import { ProgressBar } from '../ui/progress-bar';
import { DropZone } from './drop-zone';

/**
 * Upload: pick or drop a file, give its version (a .tapk has none of its own; other files also
 * need the app name), then watch the bytes go. The server checks the .tapk trailer and CRC.
 */
export function UploadPanel({ onUploaded }: { onUploaded: () => void }) {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [version, setVersion] = useState('');
  const [app, setApp] = useState('');
  const [sent, setSent] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<PackageView | null>(null);
  const handle = useRef<UploadHandle | null>(null);
  const isTapk = file?.name.toLowerCase().endsWith('.tapk') ?? false;

  const choose = (next: File) => {
    setFile(next);
    setError(null);
    setDone(null);
    setSent(null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setSent({ loaded: 0, total: file.size });
    handle.current = uploadPackage({
      token: api.token,
      file,
      version: version.trim(),
      app: isTapk ? undefined : app.trim(),
      onProgress: (loaded, total) => setSent({ loaded, total }),
    });
    try {
      const pkg = await handle.current.done;
      setDone(pkg);
      setFile(null);
      setVersion('');
      setApp('');
      onUploaded();
    } catch (failure) {
      setError(failure);
    } finally {
      handle.current = null;
      setSent(null);
    }
  };

  const uploading = sent !== null;
  return (
    <section className="card" aria-label="Upload a package">
      <h2>Upload a package</h2>
      <DropZone onFile={choose} disabled={uploading} />
      {file && (
        <form className="form form--inline" onSubmit={submit}>
          <p className="upload__file">
            <strong>{file.name}</strong> <span className="muted">{formatBytes(file.size)}</span>
          </p>
          <label className="form__field">
            <span>Version</span>
            <input
              name="version"
              required
              placeholder="e.g. 2.0.0"
              pattern="[A-Za-z0-9][A-Za-z0-9._+\-]{0,63}"
              value={version}
              disabled={uploading}
              onChange={(e) => setVersion(e.target.value)}
            />
          </label>
          {!isTapk && (
            <label className="form__field">
              <span>App name</span>
              <input
                name="app"
                required
                value={app}
                disabled={uploading}
                onChange={(e) => setApp(e.target.value)}
              />
            </label>
          )}
          <div className="form__actions">
            <button type="submit" className="button button--primary" disabled={uploading}>
              Upload
            </button>
            {uploading ? (
              <button type="button" className="button" onClick={() => handle.current?.abort()}>
                Stop
              </button>
            ) : (
              <button type="button" className="button" onClick={() => setFile(null)}>
                Clear
              </button>
            )}
          </div>
        </form>
      )}
      {sent && <ProgressBar value={sent.loaded} max={sent.total} label="Upload progress" />}
      {error !== null && <ErrorNotice error={error} title="The upload was refused" />}
      {done && (
        <p className="notice notice--ok" role="status">
          Uploaded {done.app} {done.version} ({formatBytes(done.size)}).{' '}
          <a href={`#/packages/${done.id}`}>View details</a> ·{' '}
          <a href={`#/rollouts/new?package=${done.id}`}>Roll it out</a>
        </p>
      )}
    </section>
  );
}
