import { ApiError } from './api-error';
import { queryString } from './api-client';
import type { PackageView } from './types';

export interface UploadOptions {
  token: string;
  file: File;
  version: string;
  /** Needed only for files that are not a .tapk (a .tapk names its app in its trailer). */
  app?: string;
  onProgress: (sent: number, total: number) => void;
}

export interface UploadHandle {
  done: Promise<PackageView>;
  abort: () => void;
}

/**
 * Uploads a package as a raw body. XMLHttpRequest rather than fetch: only it reports upload
 * progress in every browser.
 */
export function uploadPackage(options: UploadOptions): UploadHandle {
  const xhr = new XMLHttpRequest();
  const query = queryString({
    version: options.version,
    fileName: options.file.name,
    app: options.app,
  });

  const done = new Promise<PackageView>((resolve, reject) => {
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress(event.loaded, event.total);
    };
    xhr.onerror = () => reject(ApiError.network());
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'upload canceled'));
    xhr.onload = () => {
      const body = parse(xhr.responseText);
      if (xhr.status === 201) resolve(body as PackageView);
      else reject(ApiError.fromBody(xhr.status, body));
    };
  });

  xhr.open('POST', `/api/v1/packages${query}`);
  xhr.setRequestHeader('authorization', `Bearer ${options.token}`);
  xhr.setRequestHeader('content-type', 'application/octet-stream');
  xhr.send(options.file);
  return { done, abort: () => xhr.abort() };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
