// The attachments of the message being written: files and folders from the native picker or a drop on the window
// (Rust turns the paths into attachments and remembers them as the user's choice), images pasted from the
// clipboard (their bytes checked in Rust). Each is a removable chip until the message is sent. Problems (a file
// that is gone, an image too big, a type the model cannot take) are said in words; what was typed is untouched.

import { describeError, type AttachOutcome, type Attachment, type Backend } from "../backend";

/** The data URL an image chip shows: made from the bytes the user gave, with the type Rust found in them. */
export function imageSource(attachment: Attachment): string | null {
  return attachment.type === "image" ? `data:${attachment.mimeType};base64,${attachment.data}` : null;
}

/** What a chip calls an attachment: the file or folder's name, or the image's. */
export function attachmentLabel(attachment: Attachment): string {
  if (attachment.type === "image") return attachment.name;
  const parts = attachment.path.split(/[\\/]/).filter((part) => part !== "");
  return parts.at(-1) ?? attachment.path;
}

/** Base64 of a Blob's bytes (a pasted image). */
export async function toBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(binary);
}

export class DraftAttachments {
  items = $state.raw<Attachment[]>([]);
  /** Why the last attachment could not be added, in words. */
  problem = $state<string | null>(null);

  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Add what a picker or drop produced; a path already attached is not added twice. */
  add(outcome: AttachOutcome): void {
    const fresh = outcome.attachments.filter(
      (candidate) =>
        candidate.type === "image" ||
        !this.items.some((item) => item.type !== "image" && item.path === candidate.path),
    );
    this.items = [...this.items, ...fresh];
    this.problem = outcome.problems.length > 0 ? outcome.problems.join(" ") : null;
  }

  async pick(folder: boolean): Promise<void> {
    try {
      this.add(await this.#backend.pickAttachments(folder));
    } catch (failure) {
      this.problem = describeError(failure);
    }
  }

  /** Images among pasted clipboard items; false when there were none (the paste is text: let it through). */
  async paste(files: File[]): Promise<boolean> {
    const images = files.filter((file) => file.type.startsWith("image/"));
    if (images.length === 0) return false;
    for (const image of images) {
      const name = image.name && image.name !== "image.png" ? image.name : `pasted-image-${this.items.length + 1}.png`;
      try {
        const attachment = await this.#backend.attachImage(name, await toBase64(image));
        this.items = [...this.items, attachment];
        this.problem = null;
      } catch (failure) {
        this.problem = describeError(failure);
      }
    }
    return true;
  }

  /** A paste that carried no image (WebKitGTK hands none over): the image on the system clipboard, if any. */
  async pasteFromClipboard(): Promise<void> {
    try {
      const attachment = await this.#backend.pasteClipboardImage(`pasted-image-${this.items.length + 1}.png`);
      if (attachment) {
        this.items = [...this.items, attachment];
        this.problem = null;
      }
    } catch (failure) {
      this.problem = describeError(failure);
    }
  }

  remove(index: number): void {
    this.items = this.items.filter((_, i) => i !== index);
    this.problem = null;
  }

  clear(): void {
    this.items = [];
    this.problem = null;
  }
}
