//! The CLI child process, started so that it cannot outlive the app.
//!
//! Linux: the child leads its own process group and gets `PR_SET_PDEATHSIG(SIGKILL)`, so even a
//! `kill -9` of the app takes the CLI down. Unix: every exit path we control kills the whole
//! group (the CLI's shell tools included). Windows: the child joins a job object with
//! kill-on-close, which the OS closes when the app dies. This module owns nothing else.

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

impl GuardedChild {
    pub fn spawn(spec: &ChildSpec) -> io::Result<(Self, ChildPipes)> {
        let mut command = Command::new(&spec.program);
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
