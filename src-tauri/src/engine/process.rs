//! The CLI child process, started so that it cannot outlive the app.
//!
//! Linux: the child leads its own process group and gets `PR_SET_PDEATHSIG(SIGKILL)`, so even a
//! `kill -9` of the app takes the CLI down. Unix: every exit path we control kills the whole
//! group (the CLI's shell tools included). Windows: the child joins a job object with
//! kill-on-close, which the OS closes when the app dies, and no console window opens for it.
//! Started from an AppImage, the child gets the environment the user had, not the AppImage's
//! own library and data folders (see [`appimage_scrub`]). This module owns nothing else.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

/// What to run: program, arguments and environment. Secrets go in `env`, never in `args`.
pub struct ChildSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub env_remove: Vec<OsString>,
    pub working_directory: PathBuf,
}

pub struct ChildPipes {
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
    pub stderr: ChildStderr,
}

/// A running CLI whose process tree dies with this value (drop kills it).
pub struct GuardedChild {
    child: Child,
    #[cfg(windows)]
    job: Option<windows_job::Job>,
}

/// Undo an AppImage's AppRun for a child: AppRun puts folders of its mount (`$APPDIR`) first in
/// LD_LIBRARY_PATH, PATH, XDG_DATA_DIRS, GTK and GIO module paths, which break `git`, `curl` and
/// the CLI's other tools when inherited. Given the app's environment, returns the variables to set
/// (path lists without `$APPDIR` entries) and those to remove (nothing left, or AppImage's own).
/// Outside an AppImage (no `APPDIR`, or no `APPIMAGE`) it changes nothing.
pub fn appimage_scrub(
    parent_env: impl IntoIterator<Item = (OsString, OsString)>,
) -> (Vec<(OsString, OsString)>, Vec<OsString>) {
    let vars: Vec<(OsString, OsString)> = parent_env.into_iter().collect();
    let get = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| PathBuf::from(v));
    let (Some(appdir), Some(_)) = (get("APPDIR"), get("APPIMAGE")) else { return (Vec::new(), Vec::new()) };
    if appdir.as_os_str().is_empty() || appdir == std::path::Path::new("/") {
        return (Vec::new(), Vec::new());
    }
    let (mut set, mut remove) = (Vec::new(), Vec::new());
    for (name, value) in &vars {
        if ["APPDIR", "APPIMAGE", "ARGV0", "OWD"].iter().any(|own| name == own) {
            remove.push(name.clone());
            continue;
        }
        let entries: Vec<PathBuf> = std::env::split_paths(value).collect();
        let kept: Vec<&PathBuf> = entries.iter().filter(|entry| !entry.starts_with(&appdir)).collect();
        if kept.len() == entries.len() {
            continue;
        }
        match std::env::join_paths(kept.iter().filter(|entry| !entry.as_os_str().is_empty())) {
            Ok(joined) if !joined.is_empty() => set.push((name.clone(), joined)),
            _ => remove.push(name.clone()),
        }
    }
    (set, remove)
}

impl GuardedChild {
    pub fn spawn(spec: &ChildSpec) -> io::Result<(Self, ChildPipes)> {
        Self::spawn_from(spec, std::env::vars_os())
    }

    /// [`Self::spawn`] as if the app's environment were `parent_env` (tests).
    pub fn spawn_from(
        spec: &ChildSpec,
        parent_env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> io::Result<(Self, ChildPipes)> {
        let mut command = Command::new(&spec.program);
        // First what AppRun added (so the spec's own settings below still win).
        let (scrubbed, unset) = appimage_scrub(parent_env);
        for name in &unset {
            command.env_remove(name);
        }
        command.envs(scrubbed);
        command
            .args(&spec.args)
            .current_dir(&spec.working_directory)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for name in &spec.env_remove {
            command.env_remove(name);
        }
        command.envs(spec.env.iter().map(|(k, v)| (k, v)));

        #[cfg(unix)]
        {
            command.process_group(0);
        }
        #[cfg(windows)]
        {
            // A console program started from a GUI app would flash a console window.
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            command.creation_flags(CREATE_NO_WINDOW);
        }
        #[cfg(target_os = "linux")]
        {
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) run between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // The parent may have died before prctl took effect.
                    if libc::getppid() != parent {
                        libc::_exit(1);
                    }
                    Ok(())
                });
            }
        }

        let mut child = command.spawn()?;
        #[cfg(windows)]
        let job = windows_job::Job::contain(&child).ok();
        let pipes = ChildPipes {
            stdin: child.stdin.take().expect("stdin is piped"),
            stdout: child.stdout.take().expect("stdout is piped"),
            stderr: child.stderr.take().expect("stderr is piped"),
        };
        Ok((
            Self {
                child,
                #[cfg(windows)]
                job,
            },
            pipes,
        ))
    }

    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Ask the process tree to stop, then kill it if it has not exited within `grace`.
    pub async fn terminate(&mut self, grace: Duration) {
        #[cfg(unix)]
        self.signal_group(libc::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            tracing::warn!("Copilot CLI did not exit within {grace:?}; killing it");
        }
        self.kill_tree();
        let _ = self.child.wait().await;
    }

    /// Kill the child and everything in its process group or job, at once.
    pub fn kill_tree(&mut self) {
        #[cfg(unix)]
        self.signal_group(libc::SIGKILL);
        #[cfg(windows)]
        if let Some(job) = &self.job {
            job.terminate();
        }
        let _ = self.child.start_kill();
    }

    #[cfg(unix)]
    fn signal_group(&self, signal: libc::c_int) {
        if let Some(pid) = self.child.id() {
            // The child leads its group, so its pid is the group id. Killing the group also
            // reaches grandchildren after the CLI itself has exited.
            // SAFETY: plain syscall on a process group we created.
            unsafe {
                libc::killpg(pid as libc::pid_t, signal);
            }
        }
    }
}

impl Drop for GuardedChild {
    fn drop(&mut self) {
        self.kill_tree();
    }
}

#[cfg(windows)]
mod windows_job {
    //! A job object with kill-on-close: when the app's last handle to it closes (including when
    //! the app is killed), Windows terminates every process in it.
    use std::mem::{size_of, zeroed};
    use std::ptr;

    use tokio::process::Child;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation, SetInformationJobObject,
        TerminateJobObject,
    };

    pub struct Job(HANDLE);

    // SAFETY: a job handle may be used from any thread.
    unsafe impl Send for Job {}
    unsafe impl Sync for Job {}

    impl Job {
        pub fn contain(child: &Child) -> std::io::Result<Self> {
            let process = child.raw_handle().ok_or_else(|| std::io::Error::other("child has already exited"))?;
            // SAFETY: FFI calls with valid arguments; the handle is closed in Drop.
            unsafe {
                let job = CreateJobObjectW(ptr::null(), ptr::null());
                if job.is_null() {
                    return Err(std::io::Error::last_os_error());
                }
                let job = Job(job);
                let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = zeroed();
                info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                if SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    &info as *const _ as *const core::ffi::c_void,
                    size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                ) == 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                if AssignProcessToJobObject(job.0, process as HANDLE) == 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(job)
            }
        }

        pub fn terminate(&self) {
            // SAFETY: valid job handle owned by self.
            unsafe {
                TerminateJobObject(self.0, 1);
            }
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: valid handle, closed once.
            unsafe {
                CloseHandle(self.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    const MOUNT: &str = "/tmp/.mount_copiloXyZ12";

    fn appimage_env() -> Vec<(OsString, OsString)> {
        env(&[
            ("APPDIR", MOUNT),
            ("APPIMAGE", "/home/u/Apps/copilot-desktop.AppImage"),
            ("OWD", "/home/u"),
            ("LD_LIBRARY_PATH", &format!("{MOUNT}/usr/lib:{MOUNT}/usr/lib/x86_64-linux-gnu:/opt/cuda/lib64")),
            ("PATH", &format!("{MOUNT}/usr/bin:/usr/local/bin:/usr/bin")),
            ("XDG_DATA_DIRS", &format!("{MOUNT}/usr/share:/usr/share")),
            ("GDK_PIXBUF_MODULE_FILE", &format!("{MOUNT}/usr/lib/gdk-pixbuf-2.0/2.10.0/loaders.cache")),
            ("GIO_EXTRA_MODULES", &format!("{MOUNT}/usr/lib/gio/modules")),
            ("HOME", "/home/u"),
            ("GH_HOST", "github.com"),
        ])
    }

    #[test]
    fn outside_an_appimage_nothing_changes() {
        let plain = env(&[("PATH", "/usr/bin"), ("LD_LIBRARY_PATH", "/opt/lib"), ("HOME", "/home/u")]);
        assert_eq!(appimage_scrub(plain), (vec![], vec![]));
        // APPDIR alone (some other launcher's) is not an AppImage.
        assert_eq!(
            appimage_scrub(env(&[("APPDIR", MOUNT), ("LD_LIBRARY_PATH", &format!("{MOUNT}/lib"))])),
            (vec![], vec![])
        );
    }

    #[test]
    fn inside_an_appimage_the_mounts_folders_leave_every_path_list() {
        let (set, remove) = appimage_scrub(appimage_env());
        let set: Vec<(String, String)> =
            set.into_iter().map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap())).collect();
        assert!(set.contains(&("LD_LIBRARY_PATH".into(), "/opt/cuda/lib64".into())), "{set:?}");
        assert!(set.contains(&("PATH".into(), "/usr/local/bin:/usr/bin".into())), "{set:?}");
        assert!(set.contains(&("XDG_DATA_DIRS".into(), "/usr/share".into())), "{set:?}");
        let remove: Vec<String> = remove.into_iter().map(|k| k.into_string().unwrap()).collect();
        for gone in ["GDK_PIXBUF_MODULE_FILE", "GIO_EXTRA_MODULES", "APPDIR", "APPIMAGE", "OWD"] {
            assert!(remove.iter().any(|k| k == gone), "{gone} is removed: {remove:?}");
        }
        assert!(!set.iter().any(|(_, v)| v.contains(MOUNT)), "no mount folder survives: {set:?}");
        assert!(!set.iter().any(|(k, _)| k == "HOME" || k == "GH_HOST"), "the rest is left as it is");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_child_started_from_an_appimage_sees_the_users_environment() {
        use tokio::io::AsyncReadExt;
        let spec = ChildSpec {
            program: PathBuf::from("/usr/bin/env"),
            args: vec![],
            env: vec![("COPILOT_SDK_AUTH_TOKEN".into(), "set-by-the-spec".into())],
            env_remove: vec![],
            working_directory: std::env::temp_dir(),
        };
        let (mut child, mut pipes) = GuardedChild::spawn_from(&spec, appimage_env()).expect("spawn env");
        let mut out = String::new();
        pipes.stdout.read_to_string(&mut out).await.unwrap();
        assert!(child.wait().await.unwrap().success());
        assert!(!out.contains(MOUNT), "the child sees none of the AppImage's folders:\n{out}");
        assert!(out.lines().any(|l| l == "LD_LIBRARY_PATH=/opt/cuda/lib64"), "{out}");
        assert!(
            out.lines().any(|l| l == "COPILOT_SDK_AUTH_TOKEN=set-by-the-spec"),
            "the spec's own variables still apply"
        );
    }
}
