//! The device flow client (src-tauri/src/auth/device_flow.rs) over real HTTP against the fake
//! GitHub web endpoints. One GitHub second lasts [`UNIT`] here. Timing is checked only from
//! below (a poll never comes sooner than it should) and through the reported states; timeouts
//! are hang guards.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use copilot_desktop::auth::device_flow::DEVICE_CODE_GRANT;
use copilot_desktop::auth::{
    CancellationToken, DeviceCode, DeviceFlowClient, DeviceFlowConfig, DeviceFlowError, DeviceFlowState,
};
use copilot_desktop::engine::logging::redact;
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::fake_github_web::{CLIENT_ID, CodeGrant, FakeGitHubWeb, PollReply, USER_CODE};

/// One GitHub second.
const UNIT: Duration = Duration::from_millis(10);
const HANG_GUARD: Duration = Duration::from_secs(60);
/// Tokio's timer works in whole milliseconds; allow for rounding when checking lower bounds.
const SLACK: Duration = Duration::from_millis(2);

fn config(github: &FakeGitHubWeb) -> DeviceFlowConfig {
    let mut config = DeviceFlowConfig::new(CLIENT_ID).with_base_url(github.url());
    config.second = UNIT;
    config.request_timeout = Duration::from_secs(10);
    config
}

async fn guarded<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG_GUARD, work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {HANG_GUARD:?}"))
}

/// A finished sign-in: the result, and every state the poll reported, in order.
struct Run {
    code: DeviceCode,
    result: Result<Sensitive<String>, DeviceFlowError>,
    states: Vec<DeviceFlowState>,
}

impl Run {
    fn error(&self) -> &DeviceFlowError {
        match &self.result {
            Err(error) => error,
            Ok(_) => panic!("expected sign-in to fail; states: {:?}", self.states),
        }
    }

    fn token(&self) -> &str {
        match &self.result {
            Ok(token) => token.expose(),
            Err(error) => panic!("expected a token, got {error:?}: {error}; states: {:?}", self.states),
        }
    }

    /// `(interval, next_poll_in, polls, trouble?)` of every Waiting state.
    fn waits(&self) -> Vec<(u64, u64, u32, bool)> {
        self.states
            .iter()
            .filter_map(|s| match s {
                DeviceFlowState::Waiting { interval, next_poll_in, polls, trouble, .. } => {
                    Some((*interval, *next_poll_in, *polls, trouble.is_some()))
                }
                _ => None,
            })
            .collect()
    }

    fn last_state(&self) -> &DeviceFlowState {
        self.states.last().expect("at least one state")
    }
}

async fn sign_in_with(config: DeviceFlowConfig, cancel: CancellationToken) -> Run {
    let client = DeviceFlowClient::new(config).expect("client");
    let code = guarded("request_code", client.request_code()).await.expect("device code");
    let states = Arc::new(Mutex::new(Vec::new()));
    let seen = states.clone();
    let result =
        guarded("poll", client.poll(&code, &cancel, move |state| seen.lock().unwrap().push(state.clone()))).await;
    let states = states.lock().unwrap().clone();
    Run { code, result, states }
}

async fn sign_in(github: &FakeGitHubWeb) -> Run {
    sign_in_with(config(github), CancellationToken::new()).await
}

/// Each gap between polls is at least the wait announced before the later poll.
fn assert_gaps_at_least(github: &FakeGitHubWeb, waits_in_units: &[u64]) {
    let gaps = github.poll_gaps();
    assert_eq!(gaps.len(), waits_in_units.len(), "gaps {gaps:?}");
    for (gap, units) in gaps.iter().zip(waits_in_units) {
        let floor = UNIT * u32::try_from(*units).unwrap();
        assert!(
            *gap + SLACK >= floor,
            "a poll came {gap:?} after the previous one, sooner than {floor:?}; gaps {gaps:?}"
        );
    }
}

/// Let a few intervals pass and check nobody polls any more.
async fn assert_polling_stopped(github: &FakeGitHubWeb) {
    let before = github.polls().len();
    tokio::time::sleep(UNIT * 30).await;
    assert_eq!(github.polls().len(), before, "polls continued after the flow ended: {:?}", github.polls());
}

#[tokio::test]
async fn signs_in_after_pending_polls() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([PollReply::Pending, PollReply::Pending, PollReply::token("gho_FakeDeviceFlowToken000000001")]);
    let run = sign_in(&github).await;

    assert_eq!(run.token(), "gho_FakeDeviceFlowToken000000001");
    assert_eq!(run.code.user_code, USER_CODE);
    assert_eq!(run.code.verification_uri, format!("{}/login/device", github.url()));
    assert_eq!((run.code.interval, run.code.expires_in), (5, 900));
    assert_eq!(format!("{:?}", run.code.device_code), "<redacted>");

    let [code_request] = &github.code_requests()[..] else { panic!("one code request: {:?}", github.requests()) };
    assert_eq!(code_request.field("client_id"), Some(CLIENT_ID));
    assert_eq!(code_request.field("scope"), Some("read:user"));
    assert_eq!(code_request.header("accept"), Some("application/json"));

    let polls = github.polls();
    assert_eq!(polls.len(), 3, "{polls:?}");
    let issued = github.issued_device_codes();
    for poll in &polls {
        assert_eq!(poll.field("client_id"), Some(CLIENT_ID));
        assert_eq!(poll.field("device_code"), Some(issued[0].as_str()));
        assert_eq!(poll.field("grant_type"), Some(DEVICE_CODE_GRANT));
        assert_eq!(poll.header("accept"), Some("application/json"));
        assert!(poll.header("content-type").is_some_and(|v| v.starts_with("application/x-www-form-urlencoded")));
    }
    assert_eq!(polls.iter().map(|p| p.answered.as_str()).collect::<Vec<_>>(), ["pending", "pending", "token"]);
    assert_gaps_at_least(&github, &[5, 5]);

    assert_eq!(run.waits(), [(5, 5, 0, false), (5, 5, 1, false), (5, 5, 2, false)]);
    match &run.states[0] {
        DeviceFlowState::Waiting { user_code, verification_uri, expires_at, .. } => {
            assert_eq!(user_code, USER_CODE);
            assert_eq!(verification_uri, &run.code.verification_uri);
            assert_eq!(*expires_at, run.code.expires_at);
        }
        other => panic!("first state {other:?}"),
    }
    assert_eq!(run.last_state(), &DeviceFlowState::SignedIn);
}

#[tokio::test]
async fn slow_down_lengthens_the_interval_for_every_later_poll() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([
        PollReply::Pending,
        PollReply::SlowDown,       // 5 -> 10
        PollReply::Pending,        // stays 10
        PollReply::SlowDownTo(12), // 10 + 5 = 15 beats 12
        PollReply::SlowDownTo(40), // 40 beats 15 + 5
        PollReply::token("gho_FakeDeviceFlowToken000000002"),
    ]);
    let run = sign_in(&github).await;
    assert_eq!(run.token(), "gho_FakeDeviceFlowToken000000002");

    let intervals: Vec<u64> = run.waits().iter().map(|w| w.0).collect();
    assert_eq!(intervals, [5, 5, 10, 10, 15, 40]);
    assert!(intervals.windows(2).all(|w| w[0] <= w[1]), "{intervals:?}");
    // The wait before poll n+1 is the interval in force then, and the fake saw no sooner poll.
    assert_gaps_at_least(&github, &intervals[1..]);
}

#[tokio::test]
async fn a_missing_interval_means_five_seconds() {
    let github = FakeGitHubWeb::start().await;
    github.set_grant(CodeGrant { interval: None, ..CodeGrant::default() });
    github.script_polls([PollReply::SlowDown, PollReply::token("gho_FakeDeviceFlowToken000000003")]);
    let run = sign_in(&github).await;
    assert_eq!(run.code.interval, 5);
    assert_eq!(run.waits().iter().map(|w| w.0).collect::<Vec<_>>(), [5, 10]);
    run.token();
}

#[tokio::test]
async fn expired_token_from_github_stops() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([PollReply::Pending, PollReply::Expired]);
    let run = sign_in(&github).await;
    let error = run.error();
    assert_eq!(error.code(), "expired");
    assert!(error.to_string().contains("Start sign-in again"), "{error}");
    assert_eq!(github.polls().len(), 2);
    assert_eq!(run.last_state(), &DeviceFlowState::Failed { code: "expired", reason: error.to_string() });
    assert_polling_stopped(&github).await;
}

#[tokio::test]
async fn access_denied_stops() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([PollReply::Denied]);
    let run = sign_in(&github).await;
    assert_eq!(run.error().code(), "denied");
    assert!(run.error().to_string().contains("access denied"), "{}", run.error());
    assert_eq!(github.polls().len(), 1);
    assert_polling_stopped(&github).await;
}

#[tokio::test]
async fn device_flow_disabled_stops_and_names_the_host() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([PollReply::Disabled]);
    let run = sign_in_with(config(&github).with_host("tenant.ghe.com"), CancellationToken::new()).await;
    let error = run.error();
    assert_eq!(error.code(), "disabled");
    assert!(error.to_string().contains("tenant.ghe.com"), "{error}");
    assert!(error.to_string().contains("administrator"), "{error}");
    assert_polling_stopped(&github).await;
}

#[tokio::test]
async fn an_unknown_error_stops_and_is_named() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([PollReply::Pending, PollReply::error("brand_new_error", Some("Something GitHub invented"))]);
    let run = sign_in(&github).await;
    let error = run.error();
    assert_eq!(error.code(), "rejected");
    assert!(error.to_string().contains("brand_new_error"), "{error}");
    assert!(error.to_string().contains("Something GitHub invented"), "{error}");
    assert_polling_stopped(&github).await;
}

#[tokio::test]
async fn malformed_json_stops() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([PollReply::Pending, PollReply::Malformed]);
    let run = sign_in(&github).await;
    let error = run.error();
    assert_eq!(error.code(), "malformed");
    assert!(error.to_string().contains("github.com"), "{error}");
    assert!(!error.to_string().contains("Whoops"), "the body must not be quoted: {error}");
    assert_polling_stopped(&github).await;
}

#[tokio::test]
async fn server_errors_back_off_then_sign_in() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([
        PollReply::Status(500),
        PollReply::Status(502),
        PollReply::Status(503),
        PollReply::Status(500),
        PollReply::Pending,
        PollReply::token("gho_FakeDeviceFlowToken000000004"),
    ]);
    let mut config = config(&github);
    config.max_backoff_secs = 30;
    let run = sign_in_with(config, CancellationToken::new()).await;
    assert_eq!(run.token(), "gho_FakeDeviceFlowToken000000004");

    // (interval, wait before the next poll, polls so far, trouble shown)
    assert_eq!(
        run.waits(),
        [
            (5, 5, 0, false),
            (5, 10, 1, true), // doubled
            (5, 20, 2, true), // doubled again
            (5, 30, 3, true), // capped at 30
            (5, 30, 4, true), // stays at the ceiling
            (5, 5, 5, false), // an answer: back to the interval, trouble cleared
        ]
    );
    assert_gaps_at_least(&github, &[10, 20, 30, 30, 5]);
    match &run.states[1] {
        DeviceFlowState::Waiting { trouble: Some(trouble), .. } => assert!(trouble.contains("HTTP 500"), "{trouble}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_server_is_a_network_error_worth_retrying() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([
        PollReply::Delayed(Duration::from_secs(5), Box::new(PollReply::Pending)),
        PollReply::token("gho_FakeDeviceFlowToken000000005"),
    ]);
    let mut config = config(&github);
    config.request_timeout = Duration::from_millis(300);
    let run = sign_in_with(config, CancellationToken::new()).await;
    assert_eq!(run.token(), "gho_FakeDeviceFlowToken000000005");
    assert_eq!(run.waits().iter().map(|w| (w.1, w.3)).collect::<Vec<_>>(), [(5, false), (10, true)]);
}

#[tokio::test]
async fn gives_up_locally_when_the_code_expires() {
    let github = FakeGitHubWeb::start().await;
    github.set_grant(CodeGrant { expires_in: 60, interval: Some(3), ..CodeGrant::default() });
    github.set_after_script(PollReply::Pending);
    let started = Instant::now();
    let run = sign_in(&github).await;
    let error = run.error();
    assert_eq!(error.code(), "expired");
    assert!(matches!(error, DeviceFlowError::Expired { last_trouble: None }), "{error:?}");
    assert!(started.elapsed() + SLACK >= UNIT * 60, "gave up after {:?}", started.elapsed());
    let polls = github.polls().len();
    assert!((1..=20).contains(&polls), "{polls} polls in 60 s at a 3 s interval");
    assert_polling_stopped(&github).await;
}

#[tokio::test]
async fn expiry_during_server_trouble_says_what_went_wrong() {
    let github = FakeGitHubWeb::start().await;
    github.set_grant(CodeGrant { expires_in: 40, interval: Some(2), ..CodeGrant::default() });
    github.set_after_script(PollReply::Status(503));
    let run = sign_in(&github).await;
    let error = run.error();
    assert_eq!(error.code(), "expired");
    assert!(error.to_string().contains("HTTP 503"), "{error}");
}

#[tokio::test]
async fn cancel_stops_polling() {
    let github = FakeGitHubWeb::start().await;
    github.set_after_script(PollReply::Pending);
    let cancel = CancellationToken::new();
    let client = DeviceFlowClient::new(config(&github)).unwrap();
    let code = client.request_code().await.unwrap();
    let trigger = cancel.clone();
    let mut states = Vec::new();
    let result = guarded(
        "poll",
        client.poll(&code, &cancel, |state| {
            if let DeviceFlowState::Waiting { polls: 2, .. } = state {
                trigger.cancel();
            }
            states.push(state.clone());
        }),
    )
    .await;
    let error = result.expect_err("cancelled");
    assert_eq!(error.code(), "cancelled");
    assert_eq!(github.polls().len(), 2);
    assert!(matches!(states.last(), Some(DeviceFlowState::Failed { code: "cancelled", .. })), "{states:?}");
    assert_polling_stopped(&github).await;
}

#[tokio::test]
async fn cancel_interrupts_a_hanging_poll() {
    let github = FakeGitHubWeb::start().await;
    github.script_polls([PollReply::Delayed(Duration::from_secs(30), Box::new(PollReply::Pending))]);
    let cancel = CancellationToken::new();
    let client = DeviceFlowClient::new(config(&github)).unwrap();
    let code = client.request_code().await.unwrap();
    let trigger = cancel.clone();
    let fake = &github;
    let watcher = async move {
        // Cancel once the hanging poll has reached the fake.
        while fake.polls().is_empty() {
            tokio::time::sleep(UNIT).await;
        }
        trigger.cancel();
    };
    let (result, ()) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(client.poll(&code, &cancel, |_| {}), watcher)
    })
    .await
    .expect("cancel did not interrupt the hanging request");
    assert_eq!(result.expect_err("cancelled").code(), "cancelled");
}

#[tokio::test]
async fn the_token_is_registered_with_the_log_redactor() {
    let github = FakeGitHubWeb::start().await;
    // No well-known token shape: only registration can mask it.
    github.script_polls([PollReply::token("plain-device-flow-token-shape-42")]);
    let run = sign_in(&github).await;
    assert_eq!(run.token(), "plain-device-flow-token-shape-42");
    assert_eq!(redact("token=plain-device-flow-token-shape-42"), "token=<redacted>");
    let device_code = github.issued_device_codes().remove(0);
    assert_eq!(redact(&device_code), "<redacted>");
    assert!(!format!("{:?}", run.states).contains("plain-device-flow"));
}

#[tokio::test]
async fn request_code_failures_are_clear() {
    let github = FakeGitHubWeb::start().await;
    let request = |config: DeviceFlowConfig| async move {
        let client = DeviceFlowClient::new(config).unwrap();
        guarded("request_code", client.request_code()).await.expect_err("request_code should fail")
    };

    github.set_code_reply(Some(PollReply::Disabled));
    assert_eq!(request(config(&github)).await.code(), "disabled");
    github.set_code_reply(Some(PollReply::Status(503)));
    let error = request(config(&github)).await;
    assert_eq!(error.code(), "server");
    assert!(error.to_string().contains("HTTP 503"), "{error}");
    github.set_code_reply(Some(PollReply::Malformed));
    assert_eq!(request(config(&github)).await.code(), "malformed");
    github.set_code_reply(None);

    let mut wrong_client = config(&github);
    wrong_client.client_id = "Iv1.notourclient".into();
    let error = request(wrong_client).await;
    assert_eq!(error.code(), "rejected");
    assert!(error.to_string().contains("incorrect_client_credentials"), "{error}");

    // Nothing listens on a port we just freed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = config(&github).with_base_url(format!("http://127.0.0.1:{port}"));
    let error = request(unreachable).await;
    assert_eq!(error.code(), "network");
    assert!(error.to_string().contains("Could not reach github.com"), "{error}");
    assert!(error.to_string().contains("Check your internet connection"), "{error}");
}
