// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // GTK would panic with a backtrace; say what is wrong in one line instead.
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty())
        && std::env::var_os("WAYLAND_DISPLAY").is_none_or(|d| d.is_empty())
    {
        eprintln!(
            "copilot-desktop: no display: start it from a desktop session (DISPLAY and WAYLAND_DISPLAY are unset)"
        );
        std::process::exit(1);
    }
    // SAFETY: first thing in main, before any thread starts.
    unsafe { copilot_desktop::painting::choose() };
    copilot_desktop::run();
}
