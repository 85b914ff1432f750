//! Commands of the composer: send with attachments, queue and steer (engine/queue.rs), and the
//! ways files reach a message: the native picker, a drop on the window (both remembered as chosen
//! by the user, engine/attachments.rs), and image bytes pasted from the clipboard. The webview gets
//! no dialog or file-system permission: these commands are its only way to files.

use std::path::PathBuf;
use std::sync::Mutex;

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

use super::CommandResult;
use crate::AppState;
use crate::engine::attachments::{self, AttachOutcome, Attachment, ChosenPaths};
use crate::engine::queue::{Delivery, QueueState};

/// Send a message with its attachments: queued behind a running turn (`queue`, at once when the
/// session is idle) or into it (`steer`). Attachments by path must be ones the user chose.
#[tauri::command]
#[specta::specta]
pub async fn deliver_message(
    state: State<'_, AppState>,
    chosen: State<'_, ChosenPaths>,
    session_id: String,
    text: String,
    attachments: Vec<Attachment>,
    delivery: Delivery,
) -> CommandResult<()> {
    chosen.check(&attachments)?;
    state.engine.queue.deliver(&session_id, &text, &attachments, delivery).await?;
    Ok(())
}

/// The messages waiting in a session's queue.
#[tauri::command]
#[specta::specta]
pub async fn queued_messages(state: State<'_, AppState>, session_id: String) -> CommandResult<QueueState> {
    Ok(state.engine.queue.queue(&session_id).await?)
}

/// Change a queued message's text before it runs.
#[tauri::command]
#[specta::specta]
pub async fn edit_queued_message(
    state: State<'_, AppState>,
    session_id: String,
    item_id: String,
    text: String,
) -> CommandResult<()> {
    Ok(state.engine.queue.edit_queued(&session_id, &item_id, &text).await?)
}

/// Take a message out of the queue.
#[tauri::command]
#[specta::specta]
pub async fn remove_queued_message(
    state: State<'_, AppState>,
    session_id: String,
    item_id: String,
) -> CommandResult<()> {
    Ok(state.engine.queue.remove_queued(&session_id, &item_id).await?)
}

/// Steer the running turn with a queued message; `false` when no turn ran (it stays queued).
#[tauri::command]
#[specta::specta]
pub async fn send_queued_now(state: State<'_, AppState>, session_id: String, item_id: String) -> CommandResult<bool> {
    Ok(state.engine.queue.send_queued_now(&session_id, &item_id).await?)
}

/// Ask for files (or, with `folder`, one folder) with the system's dialog; nothing when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_attachments(
    app: AppHandle,
    chosen: State<'_, ChosenPaths>,
    folder: bool,
) -> CommandResult<AttachOutcome> {
    let (tx, rx) = tokio::sync::oneshot::channel::<Vec<PathBuf>>();
    let dialog = app.dialog().file();
    if folder {
        dialog.set_title("Attach a folder").pick_folder(move |picked| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()).into_iter().collect());
        });
    } else {
        dialog.set_title("Attach files").pick_files(move |picked| {
            let paths = picked.unwrap_or_default().into_iter().filter_map(|p| p.into_path().ok()).collect();
            let _ = tx.send(paths);
        });
    }
    let paths = rx.await.unwrap_or_default();
    Ok(attachments::from_chosen_paths(&paths, &chosen))
}

/// An image pasted from the clipboard (its bytes, base64) as an attachment, once checked.
#[tauri::command]
#[specta::specta]
pub fn attach_image(name: String, data: String) -> CommandResult<Attachment> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(data.as_bytes()).map_err(|_| {
        crate::engine::EngineError::InvalidRequest(format!("{name} is not an image the model can take."))
    })?;
    Ok(attachments::image_from_bytes(&name, &bytes)?)
}

/// The image on the system clipboard as an attachment named `name`, or nothing when it holds none.
/// On Linux WebKitGTK hands a paste event no clipboard data, so the composer asks here on every
/// paste; elsewhere the webview's paste event carries the image and this answers nothing.
#[tauri::command]
#[specta::specta]
pub async fn paste_clipboard_image(app: AppHandle, name: String) -> CommandResult<Option<Attachment>> {
    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        // GTK's clipboard lives on the main thread.
        app.run_on_main_thread(move || {
            let _ = tx.send(clipboard_png());
        })
        .map_err(|e| crate::engine::EngineError::InvalidRequest(format!("Could not read the clipboard: {e}")))?;
        let Some(png) = rx.await.ok().flatten() else { return Ok(None) };
        Ok(Some(attachments::image_from_bytes(&name, &png)?))
    }
    #[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
    {
        let _ = (app, name);
        Ok(None)
    }
}

/// The clipboard's image as PNG bytes, if it holds one.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn clipboard_png() -> Option<Vec<u8>> {
    let clipboard = gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD);
    if !clipboard.wait_is_image_available() {
        return None;
    }
    clipboard.wait_for_image()?.save_to_bufferv("png", &[]).ok()
}

/// Who hears files dropped on the window (a reload subscribes again).
#[derive(Default)]
pub struct DropListeners(Mutex<Vec<Channel<AttachOutcome>>>);

/// Push what comes of every drop of files or folders on the window through `on_drop`.
#[tauri::command]
#[specta::specta]
pub fn watch_drops(listeners: State<'_, DropListeners>, on_drop: Channel<AttachOutcome>) -> CommandResult<()> {
    listeners.0.lock().unwrap().push(on_drop);
    Ok(())
}

/// Follow the main window's drops: the paths are the user's choice, made into attachments here.
pub fn follow_drops(app: &AppHandle) {
    let Some(window) = app.get_webview_window("main") else { return };
    let app = app.clone();
    window.on_window_event(move |event| {
        let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event else { return };
        let outcome = attachments::from_chosen_paths(paths, &app.state::<ChosenPaths>());
        app.state::<DropListeners>().0.lock().unwrap().retain(|channel| channel.send(outcome.clone()).is_ok());
    });
}
