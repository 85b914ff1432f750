//! The app menu: built here with the platform's standard items and the app's own actions, whose
//! clicks (and keyboard accelerators) reach the webview through the channel `watch_menu` hands
//! over. The webview needs no event permission for this; the actions carry no data.

use std::sync::Mutex;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::menu::{Menu, MenuBuilder, MenuEvent, MenuItemBuilder, PredefinedMenuItem, SubmenuBuilder};
use tauri::{AppHandle, Manager, Runtime, State};

use super::CommandResult;

/// An action the menu asks the window to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum MenuAction {
    NewSession,
    SearchSessions,
    OpenSettings,
    CheckForUpdates,
}

impl MenuAction {
    const ALL: [MenuAction; 4] = [Self::NewSession, Self::SearchSessions, Self::OpenSettings, Self::CheckForUpdates];

    fn id(self) -> &'static str {
        match self {
            Self::NewSession => "new-session",
            Self::SearchSessions => "search-sessions",
            Self::OpenSettings => "open-settings",
            Self::CheckForUpdates => "check-for-updates",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::NewSession => "New Session",
            Self::SearchSessions => "Search Sessions",
            Self::OpenSettings => "Settings…",
            Self::CheckForUpdates => "Check for Updates…",
        }
    }

    /// The same shortcuts the webview handles itself (ui/src/lib/shortcuts.ts).
    fn accelerator(self) -> Option<&'static str> {
        match self {
            Self::NewSession => Some("CmdOrCtrl+N"),
            Self::SearchSessions => Some("CmdOrCtrl+K"),
            Self::OpenSettings => Some("CmdOrCtrl+,"),
            Self::CheckForUpdates => None,
        }
    }
}

/// Who hears the menu: the window's channels (a reload subscribes again).
#[derive(Default)]
pub struct MenuListeners(Mutex<Vec<Channel<MenuAction>>>);

/// Push every menu action through `on_action` from now on.
#[tauri::command]
#[specta::specta]
pub fn watch_menu(listeners: State<'_, MenuListeners>, on_action: Channel<MenuAction>) -> CommandResult<()> {
    listeners.0.lock().unwrap().push(on_action);
    Ok(())
}

/// The menu bar: on macOS the app menu and Edit (whose items make Copy, Paste and Select All work
/// in the webview there) and Window; everywhere File and View with the app's actions.
pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let item = |action: MenuAction| {
        let builder = MenuItemBuilder::with_id(action.id(), action.label());
        match action.accelerator() {
            Some(keys) => builder.accelerator(keys).build(app),
            None => builder.build(app),
        }
    };
    let mut menu = MenuBuilder::new(app);
    if cfg!(target_os = "macos") {
        let app_menu = SubmenuBuilder::new(app, "Copilot Desktop")
            .about(None)
            .separator()
            .item(&item(MenuAction::OpenSettings)?)
            .item(&item(MenuAction::CheckForUpdates)?)
            .separator()
            .services()
            .separator()
            .hide()
            .hide_others()
            .show_all()
            .separator()
            .quit()
            .build()?;
        menu = menu.item(&app_menu);
    }
    let mut file = SubmenuBuilder::new(app, "File").item(&item(MenuAction::NewSession)?);
    if !cfg!(target_os = "macos") {
        file = file.separator().item(&item(MenuAction::OpenSettings)?);
    }
    file = file.separator().item(&PredefinedMenuItem::close_window(app, None)?);
    if !cfg!(target_os = "macos") {
        file = file.item(&PredefinedMenuItem::quit(app, None)?);
    }
    menu = menu.item(&file.build()?);
    if cfg!(target_os = "macos") {
        let edit =
            SubmenuBuilder::new(app, "Edit").undo().redo().separator().cut().copy().paste().select_all().build()?;
        menu = menu.item(&edit);
    }
    let view = SubmenuBuilder::new(app, "View").item(&item(MenuAction::SearchSessions)?).build()?;
    menu = menu.item(&view);
    if !cfg!(target_os = "macos") {
        let help = SubmenuBuilder::new(app, "Help").item(&item(MenuAction::CheckForUpdates)?).build()?;
        menu = menu.item(&help);
    }
    if cfg!(target_os = "macos") {
        let window = SubmenuBuilder::new(app, "Window").minimize().maximize().separator().close_window().build()?;
        menu = menu.item(&window);
    }
    menu.build()
}

/// Hand a click on one of the app's items to the window.
pub fn on_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let Some(action) = MenuAction::ALL.into_iter().find(|a| event.id() == a.id()) else { return };
    tracing::debug!(?action, "menu");
    if let Some(listeners) = app.try_state::<MenuListeners>() {
        listeners.0.lock().unwrap().retain(|channel| channel.send(action).is_ok());
    }
}
