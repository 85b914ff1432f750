//! How the webview paints on Linux. WebKitGTK paints through the GPU (Skia on OpenGL). On a machine without
//! one (a virtual machine, a remote desktop, a container), Mesa's software OpenGL stands in, and then WebKit's
//! GPU path costs more than painting on the CPU: measured with bench_ui on two cores without a GPU, a sent
//! message kept Mesa's `llvmpipe` threads busy for 0.65 to 1 s of CPU, which the reply's first words waited
//! behind, and Mesa's driver kept about 0.2 MiB more for every turn of a long session. So without a GPU the app
//! asks WebKit to paint on the CPU, unless the user has said otherwise.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// WebKitGTK's switch for painting with Skia on the CPU (WebKitGTK 2.46 and later; earlier ones ignore it).
pub const CPU_PAINTING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Where Linux lists the GPUs a process can render with (`renderD128`, ...).
const RENDER_NODES: &str = "/dev/dri";

/// Whether to paint on the CPU: when no GPU render node is there to paint with, and the user has not set
/// [`CPU_PAINTING`] either way.
pub fn cpu_painting_wanted(render_nodes: &Path, already_set: bool) -> bool {
    if already_set {
        return false;
    }
    let has_gpu = std::fs::read_dir(render_nodes)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false);
    !has_gpu
}

/// Whether [`choose`] asked for CPU painting (for the log, which starts later).
static CHOSE_CPU: AtomicBool = AtomicBool::new(false);

/// Sets [`CPU_PAINTING`] for the webview's processes when [`cpu_painting_wanted`].
///
/// # Safety
/// Changes the process environment: call it before any other thread starts (first thing in `main`).
pub unsafe fn choose() {
    let wanted = cfg!(target_os = "linux")
        && cpu_painting_wanted(Path::new(RENDER_NODES), std::env::var_os(CPU_PAINTING).is_some());
    if wanted {
        // SAFETY: the caller promises no other thread runs yet.
        unsafe { std::env::set_var(CPU_PAINTING, "1") };
        CHOSE_CPU.store(true, Ordering::Relaxed);
    }
}

/// Whether the app asked WebKit to paint on the CPU (see [`choose`]).
pub fn chose_cpu() -> bool {
    CHOSE_CPU.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_on_the_cpu_only_without_a_render_node_and_unless_the_user_chose() {
        let dri = tempfile::tempdir().unwrap();
        std::fs::write(dri.path().join("card0"), "").unwrap();
        assert!(cpu_painting_wanted(dri.path(), false), "a display card alone renders nothing");
        assert!(cpu_painting_wanted(&dri.path().join("missing"), false), "no /dev/dri at all");
        std::fs::write(dri.path().join("renderD128"), "").unwrap();
        assert!(!cpu_painting_wanted(dri.path(), false), "a GPU to paint with");
        let empty = tempfile::tempdir().unwrap();
        assert!(!cpu_painting_wanted(empty.path(), true), "the user's own setting stands");
    }
}
