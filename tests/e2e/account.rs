//! My account in the browser: an approver sees their sessions, enrols a second factor by QR
//! code, keeps the recovery codes, and from then on logs in with the code from the phone.

use totp_rs::{Builder, Secret};

use super::{
    browser, click, fill, log_in, log_out, screenshot, start_driver, start_service, text_of,
    wait_for, wait_path,
};

/// The code the phone shows `steps` steps of 30 s from now.
fn code(secret: &str, steps: i64) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    totp.generate((chrono::Utc::now().timestamp() + steps * 30) as u64)
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approver_enrols_a_second_factor_and_logs_in_with_it() {
    let Some(driver) = start_driver() else { return };
    let service = start_service().await;
    let base = &service.base;
    let c = browser(&driver).await;

    log_in(&c, base, "approver", "approver-demo").await;
    wait_path(&c, "/").await;
    // The name at the top leads to the account page, which lists this session.
    click(&c, "a.user").await;
    wait_path(&c, "/account").await;
    let sessions = text_of(&c, "#sessions").await;
    assert!(sessions.contains("当前登录"), "{sessions}");
    screenshot(&c, "account").await;

    click(&c, "#second-factor a.button").await;
    wait_path(&c, "/account/second-factor").await;
    click(&c, "#start-form button[type=submit]").await;
    wait_for(&c, "#qr").await;
    let loaded = c
        .execute("return document.getElementById('qr').naturalWidth", vec![])
        .await
        .unwrap();
    assert!(
        loaded.as_u64().unwrap_or(0) > 0,
        "the QR code is drawn: {loaded}"
    );
    let secret = text_of(&c, "#secret").await;
    screenshot(&c, "enrol-qr").await;
    fill(&c, "#code", &code(&secret, 0)).await;
    click(&c, "#confirm-form button[type=submit]").await;
    wait_for(&c, "#recovery-codes").await;
    let codes = text_of(&c, "#recovery-codes ol").await;
    assert_eq!(codes.lines().count(), 10, "{codes}");
    screenshot(&c, "enrol-codes").await;

    // Log out and in: the password alone is not enough any more.
    log_out(&c).await;
    log_in(&c, base, "approver", "approver-demo").await;
    wait_path(&c, "/login/second-factor").await;
    fill(&c, "#code", "000000").await;
    click(&c, "#second-factor-form button[type=submit]").await;
    let error = text_of(&c, "#second-factor-error").await;
    assert!(error.contains("动态验证码不正确"), "{error}");
    screenshot(&c, "second-factor").await;
    fill(&c, "#code", &code(&secret, 1)).await;
    click(&c, "#second-factor-form button[type=submit]").await;
    wait_path(&c, "/").await;
    assert_eq!(text_of(&c, "h1").await, "首页");
    c.close().await.unwrap();
}
