//! Civil-affairs clerks' pages: uploading a roster with its progress shown live, the import
//! history, and an import's result with its rejected rows. Pages read through the roster
//! services; the upload goes to the JSON API from static/roster.js (so the bytes sent and the
//! rows imported show in progress bars), and without JavaScript the same form posts here, is
//! read and checked by the API's own functions and submitted by the same domain call.

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use entity::roster_import;

use super::i18n::Texts;
use super::region_picker::RegionPicker;
use super::{Page, Pager, WebUser, app_error_page, fmt, query_of, render};
use crate::access;
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::domain::{Group, Lang};
use crate::error::{AppError, AppResult, Msg, current_lang};
use crate::http::upload_form::{UploadFields, check_upload, read_upload_form};
use crate::regions::Pick;
use crate::roster::history;
use crate::roster::import::{self, Mode};
use crate::roster::status::Status;
use crate::state::AppState;

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("roster.upload_title", "上传名册", "Upload a roster"),
    ("roster.imports_title", "导入记录", "Imports"),
    ("roster.result_title", "导入结果", "Import result"),
    ("roster.file", "名册文件", "Roster file"),
    (
        "roster.file_hint",
        "支持 .xlsx、.xlsm、.xls、.xlsb、.ods 和 .csv（UTF-8 或 GBK）。",
        "Accepted: .xlsx, .xlsm, .xls, .xlsb, .ods and .csv (UTF-8 or GBK).",
    ),
    ("roster.group", "救助类别", "Group"),
    (
        "roster.group_from_file",
        "按文件中的类别列",
        "From the file's group column",
    ),
    ("roster.region", "地区", "Region"),
    ("roster.region_hint", "您的数据范围：", "Your data scope: "),
    (
        "roster.region_hint_more",
        "可选择范围内的市或县（区）：文件中区划代码为空的行按此地区登记，不在此地区的行将被拒绝。选“各地区（按文件）”则只按文件中的区划代码。",
        "A city or county inside it: rows without a region code are recorded in it, and rows of other regions are rejected. Choose \"Regions in the file\" to use only the file's region column.",
    ),
    ("roster.mode", "导入方式", "Mode"),
    ("roster.mode_incremental", "增量导入", "Incremental"),
    (
        "roster.mode_incremental_hint",
        "新增和更新文件中的人员，不影响文件中没有的人员。",
        "Adds and updates the people in the file; nobody else is touched.",
    ),
    ("roster.mode_full", "全量导入", "Full"),
    (
        "roster.mode_full_hint",
        "文件成为所选类别在该地区的完整名册：名册中有、文件中没有的人员，其记录在生效日期终止。须选择救助类别。",
        "The file becomes the whole roster of the chosen group in the region: people on the roster but not in the file are ended on the effective date. Needs a group.",
    ),
    (
        "roster.confirm",
        "确认全量替换",
        "Confirm a full replacement",
    ),
    (
        "roster.confirm_hint",
        "仅用于全量导入：文件未接受任何一行，或将终止该地区该类别一半以上在册人员时，须勾选此项并填写原因，否则导入会被拒绝、名册不变。原因记入操作日志。",
        "For full imports only: when the file accepts no row, or would end more than half of the people covered in the group and region, tick this and give a reason, or the import is refused and the roster stays as it is. The reason goes to the audit log.",
    ),
    ("roster.reason", "原因", "Reason"),
    ("roster.effective_date", "生效日期", "Effective date"),
    ("roster.submit", "上传并导入", "Upload and import"),
    (
        "roster.template",
        "下载名册模板（.xlsx）",
        "Download the roster template (.xlsx)",
    ),
    (
        "roster.noscript",
        "此页面需要启用 JavaScript 才能显示上传进度；未启用时仍可上传，完成后显示导入结果。",
        "This page needs JavaScript to show the upload's progress; without it the upload still works and shows the result when done.",
    ),
    ("roster.uploading", "正在上传文件", "Uploading the file"),
    ("roster.importing", "导入进度", "Import progress"),
    ("roster.rows_read", "已读取行数", "Rows read"),
    (
        "roster.total_unknown",
        "（文件未声明总行数）",
        " (the file does not say how many rows it has)",
    ),
    (
        "roster.processing",
        "上传完成，服务器正在读取文件……",
        "Uploaded; the server is reading the file…",
    ),
    (
        "roster.too_large",
        "文件过大，超出上传上限。",
        "The file is larger than the upload limit.",
    ),
    (
        "roster.poll_failed",
        "暂时无法获取导入进度，正在重试……",
        "The progress could not be read; trying again…",
    ),
    ("roster.id", "批次", "Import"),
    ("roster.file_name", "文件", "File"),
    ("roster.scope", "范围", "Scope"),
    ("roster.status", "状态", "Status"),
    ("roster.accepted", "接收", "Accepted"),
    ("roster.rejected", "拒绝", "Rejected"),
    ("roster.skipped", "跳过", "Skipped"),
    ("roster.added", "新增", "Added"),
    ("roster.updated", "更新", "Updated"),
    ("roster.ended", "终止", "Ended"),
    ("roster.rows", "数据行", "Data rows"),
    ("roster.who", "上传人", "Uploaded by"),
    ("roster.when", "上传时间", "Uploaded"),
    ("roster.finished", "完成时间", "Finished"),
    ("roster.cli", "命令行", "Command line"),
    (
        "roster.all_groups",
        "各类别（按文件）",
        "Groups in the file",
    ),
    (
        "roster.all_regions",
        "各地区（按文件）",
        "Regions in the file",
    ),
    ("roster.status_queued", "排队中", "Queued"),
    ("roster.status_running", "校验中", "Validating"),
    (
        "roster.status_validated",
        "已校验，待启用",
        "Validated, to activate",
    ),
    ("roster.status_succeeded", "已生效", "Activated"),
    ("roster.status_failed", "失败", "Failed"),
    ("roster.status_discarded", "已放弃", "Discarded"),
    ("roster.status_expired", "已过期", "Expired"),
    ("roster.format", "文件格式", "Format"),
    ("roster.size", "文件大小", "Size"),
    (
        "roster.sha256",
        "文件指纹（SHA-256）",
        "Fingerprint (SHA-256)",
    ),
    (
        "roster.duplicate_of",
        "与此前的导入为同一文件、同样的参数，本次未作改动：",
        "The same file with the same parameters as an earlier import; nothing was changed this time: ",
    ),
    ("roster.failure", "失败原因", "Why it failed"),
    ("roster.retry", "重新运行", "Run it again"),
    ("roster.revert", "撤销本次导入", "Revert this import"),
    (
        "roster.revert_hint",
        "撤销后，本次新增的名册记录作废，修改或终止的记录恢复为导入前的内容；之后若已有其他导入改动同一批记录，则不能撤销。须由上传人以外的人员操作。",
        "Reverting voids the entries this import added and gives the entries it changed or ended their earlier values; it is refused if a later import changed the same entries. Someone other than the uploader reverts.",
    ),
    (
        "roster.revert_confirm",
        "确定撤销本次导入？名册将恢复为导入前的状态，此操作会记入操作日志。",
        "Revert this import? The roster goes back to how it was before it; the revert is audited.",
    ),
    ("roster.reverted", "已撤销", "Reverted"),
    ("roster.errors", "被拒绝的行", "Rejected rows"),
    ("roster.sheet", "工作表", "Sheet"),
    ("roster.row", "行号", "Row"),
    ("roster.column", "列", "Column"),
    ("roster.value", "内容", "Value"),
    ("roster.message", "问题", "Problem"),
    (
        "roster.no_errors",
        "没有被拒绝的行。",
        "No row was rejected.",
    ),
    (
        "roster.errors_xlsx_hint",
        "Excel 文件含问题说明和被拒绝的原始行，改正后可直接重新上传。",
        "The Excel file holds the problems and the rejected rows themselves, ready to fix and upload again.",
    ),
    ("roster.new_upload", "上传名册", "Upload a roster"),
    (
        "roster.columns",
        "各列的读取方式",
        "How the columns were read",
    ),
    (
        "roster.columns_hint",
        "每个工作表的表头中，哪一列读作哪一项；其余的列作为附加信息随每行保存，不参与核对。",
        "Which column of each sheet's header was read as which item; the other columns are kept with each row as extra data and are not checked.",
    ),
    ("roster.header_row", "表头所在行", "Header row"),
    ("roster.letter", "列号", "Column"),
    ("roster.header", "表头", "Header"),
    ("roster.read_as", "读作", "Read as"),
    (
        "roster.kept_as_extra",
        "附加信息（不读取）",
        "Extra data (not read)",
    ),
    ("roster.warnings", "请注意", "Please check"),
    ("roster.remap", "更正读取方式", "Read it as"),
    (
        "roster.remap_button",
        "改为此项并重新校验",
        "Change and validate again",
    ),
    (
        "roster.remap_hint",
        "某列读错了，或两列争同一项时，可在此指定该列读作哪一项（或不读取）；系统用已上传的文件重新校验，无需重新上传，所作更正会随本批次保存并记入操作日志。",
        "When a column was read wrongly, or two columns claim one item, say here what the column is (or none); the stored file is validated again, with no new upload, and the correction is kept with the import and audited.",
    ),
];

const IMPORTS_PER_PAGE: u64 = 20;
const ERRORS_PER_PAGE: u64 = 50;

/// This area's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/roster/upload",
            get(upload_form)
                // The plain form post reads the body itself, up to the upload limit.
                .post(upload_post)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/roster/imports", get(import_list))
        .route("/roster/imports/{id}", get(import_page))
        .route("/roster/approvals", get(super::roster_plan::approvals))
        .route(
            "/static/roster.js",
            get(|| async { super::javascript(include_str!("../../static/roster.js")) }),
        )
}

/// A choice of a select.
pub struct Choice {
    /// The value sent.
    pub code: &'static str,
    /// The words shown.
    pub label: String,
}

/// A status as a coloured badge.
pub struct Badge {
    /// The words.
    pub label: &'static str,
    /// CSS class: ok, bad or wait.
    pub class: &'static str,
}

fn status_badge(page: &Page, status: Status) -> Badge {
    let (key, class) = match status {
        Status::Queued => ("roster.status_queued", "wait"),
        Status::Running => ("roster.status_running", "wait"),
        Status::Validated => ("roster.status_validated", "wait"),
        Status::Succeeded => ("roster.status_succeeded", "ok"),
        Status::Discarded => ("roster.status_discarded", "wait"),
        Status::Expired => ("roster.status_expired", "wait"),
        Status::Failed => ("roster.status_failed", "bad"),
    };
    Badge {
        label: page.t.get(key),
        class,
    }
}

fn group_label(code: &str, lang: Lang) -> String {
    Group::parse(code).map_or_else(|_| code.to_owned(), |g| g.label(lang).to_owned())
}

fn mode_label(page: &Page, mode: &str) -> &'static str {
    match Mode::parse(mode) {
        Some(Mode::Full) => page.t.get("roster.mode_full"),
        _ => page.t.get("roster.mode_incremental"),
    }
}

/// The user's scope in words: `2201（市（州））`.
fn scope_words(page: &Page, user: &CurrentUser) -> String {
    super::regions().scope_name(user.region.as_str(), page.t.0)
}

/// What the progress box shows (`roster/progress.html`).
pub struct LiveProgress {
    /// Shown and followed: the import is queued or running.
    pub live: bool,
    /// The import followed (0 before an upload).
    pub id: i64,
    /// Rows read.
    pub done: i64,
    /// Rows in all (0 while unknown, or when the file declared fewer than were read).
    pub total: i64,
    /// `done` with separators.
    pub done_text: String,
    /// `total` with separators.
    pub total_text: String,
    /// The status in words.
    pub status: &'static str,
}

impl LiveProgress {
    fn idle() -> LiveProgress {
        LiveProgress {
            live: false,
            id: 0,
            done: 0,
            total: 0,
            done_text: "0".into(),
            total_text: String::new(),
            status: "",
        }
    }
}

// ---- upload ----

#[derive(Template)]
#[template(path = "roster/upload.html")]
struct UploadPage {
    page: Page,
    scope: String,
    groups: Vec<Choice>,
    group: String,
    region_code: String,
    mode: String,
    effective_date: String,
    confirm: bool,
    reason: String,
    error: Option<String>,
    field_errors: Vec<(String, String)>,
    progress: LiveProgress,
}

impl UploadPage {
    fn new(user: CurrentUser) -> UploadPage {
        let page = Page::new("roster.upload_title", Some(user.clone()), "/roster/upload");
        let lang = current_lang();
        let groups = Group::ALL
            .iter()
            .map(|g| Choice {
                code: g.code(),
                label: match lang {
                    Lang::Zh => g.label_zh().to_owned(),
                    Lang::En => format!("{} ({})", g.label_en(), g.label_zh()),
                },
            })
            .collect();
        UploadPage {
            scope: scope_words(&page, &user),
            page,
            groups,
            group: String::new(),
            region_code: user.region.as_str().to_owned(),
            mode: Mode::Incremental.code().to_owned(),
            effective_date: user.today().to_string(),
            confirm: false,
            reason: String::new(),
            error: None,
            field_errors: vec![],
            progress: LiveProgress::idle(),
        }
    }

    fn error_of(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn region_picker(&self) -> RegionPicker {
        let scope = self.page.scope();
        RegionPicker::new(
            "region_code",
            "region_code",
            &scope,
            Pick::Scope,
            &self.region_code,
        )
        .optional(self.page.t.get("roster.all_regions"))
        .described_by("region-hint")
        .invalid(self.error_of("region_code").is_some())
    }
}

async fn upload_form(web: WebUser) -> Result<Response, Response> {
    let user = web.require(access::ROSTER_IMPORTER)?;
    Ok(render(&UploadPage::new(user)))
}

/// The form posted without JavaScript: read and checked as the API does, submitted by the same
/// domain call, then on to the result page; a refusal shows the form again with what was
/// chosen (a browser never lets a page fill in a file) and the messages by their fields.
async fn upload_post(
    State(state): State<AppState>,
    web: WebUser,
    req: Request,
) -> Result<Response, Response> {
    let user = web.require(access::ROSTER_IMPORTER)?;
    let limit = state.settings.max_upload_bytes;
    let mut typed = std::collections::HashMap::new();
    let outcome = async {
        let form = read_form(&state, req, limit).await?;
        typed = form.fields.clone();
        let upload = check_upload(form, user.today())?;
        import::submit(
            &state.db,
            state.imports.parser(),
            &user.actor(),
            &user.region,
            upload,
        )
        .await
    }
    .await;
    match outcome {
        Ok((view, queued)) => {
            if queued {
                state.imports.ring();
            }
            Ok(Redirect::to(&format!("/roster/imports/{}", view.id)).into_response())
        }
        Err(e) if e.status().is_server_error() => Err(e.into_response()),
        Err(e) => {
            let lang = current_lang();
            let mut page = UploadPage::new(user);
            let get = |k: &str| typed.get(k).cloned().unwrap_or_default();
            if !typed.is_empty() {
                page.group = get("group");
                page.region_code = get("region_code");
                page.mode = get("mode");
                page.effective_date = get("effective_date");
                page.confirm = !matches!(
                    get("confirm_full_replace").as_str(),
                    "" | "false" | "0" | "off"
                );
                page.reason = get("reason");
            }
            if let AppError::Unprocessable { details, .. } = &e {
                page.field_errors = details
                    .iter()
                    .map(|d| (d.field.clone(), d.message.get(lang).to_owned()))
                    .collect();
            }
            page.error = Some(e.message().get(lang).to_owned());
            let mut res = render(&page);
            *res.status_mut() = e.status();
            Ok(res)
        }
    }
}

/// The multipart body, at most `limit` bytes (as the API's upload route allows), read as it
/// arrives: the file goes to a temporary file, not into memory.
async fn read_form(state: &AppState, req: Request, limit: usize) -> AppResult<UploadFields> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let body = Body::new(http_body_util::Limited::new(body, limit));
    let form = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|e| unreadable(&e.body_text()))?;
    read_upload_form(form, limit).await
}

fn unreadable(why: &str) -> AppError {
    AppError::BadRequest {
        code: "bad_upload",
        message: Msg::new(
            format!("上传内容无法读取：{why}"),
            format!("The upload could not be read: {why}"),
        ),
    }
}

// ---- history ----

/// One import as the history and the result page show it.
pub struct ImportRow {
    /// Id.
    pub id: i64,
    /// Uploaded name.
    pub file_name: String,
    /// Group parameter in words, or "from the file".
    pub group: String,
    /// Region parameter, or "from the file".
    pub region: String,
    /// Mode in words.
    pub mode: &'static str,
    /// Effective date.
    pub effective_date: String,
    /// Status.
    pub badge: Badge,
    /// Counts, with separators.
    pub rows: String,
    /// Accepted.
    pub accepted: String,
    /// Rejected.
    pub rejected: String,
    /// Rejected rows exist.
    pub has_rejected: bool,
    /// Skipped.
    pub skipped: String,
    /// Added.
    pub added: String,
    /// Updated.
    pub updated: String,
    /// Ended.
    pub ended: String,
    /// Uploader.
    pub who: String,
    /// Uploaded at.
    pub when: String,
    /// The earlier import of the same file.
    pub duplicate_of: Option<i64>,
}

fn import_row(
    page: &Page,
    m: &roster_import::Model,
    names: &std::collections::HashMap<i64, String>,
) -> ImportRow {
    let lang = current_lang();
    ImportRow {
        id: m.id,
        file_name: m.file_name.clone(),
        group: m.group_code.as_deref().map_or_else(
            || page.t.get("roster.all_groups").to_owned(),
            |g| group_label(g, lang),
        ),
        region: m.region_code.as_deref().map_or_else(
            || page.t.get("roster.all_regions").to_owned(),
            |r| page.region(r),
        ),
        mode: mode_label(page, &m.mode),
        effective_date: m.effective_date.to_string(),
        badge: status_badge(page, m.status),
        rows: fmt::count(m.accepted + m.rejected + m.skipped),
        accepted: fmt::count(m.accepted),
        rejected: fmt::count(m.rejected),
        has_rejected: m.rejected > 0,
        skipped: fmt::count(m.skipped),
        added: fmt::count(m.added),
        updated: fmt::count(m.updated),
        ended: fmt::count(m.ended),
        who: match m.created_by {
            Some(id) => names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
            None => page.t.get("roster.cli").to_owned(),
        },
        when: fmt::at(&m.created_at),
        duplicate_of: m.duplicate_of,
    }
}

#[derive(Template)]
#[template(path = "roster/imports.html")]
struct ImportsPage {
    page: Page,
    status: String,
    statuses: Vec<Choice>,
    rows: Vec<ImportRow>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    page: Option<u64>,
}

async fn import_list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::ROSTER_IMPORTER)?;
    let page = Page::new(
        "roster.imports_title",
        Some(user.clone()),
        "/roster/imports",
    );
    // An unknown status is no filter, rather than an empty list.
    let status = q.status.as_deref().and_then(Status::parse);
    let n = super::page_number(q.page);
    let fail = |e| app_error_page(Some(user.clone()), e);
    let (models, total) = history::list(&state.db, &user, status, n, IMPORTS_PER_PAGE)
        .await
        .map_err(fail)?;
    let names = history::uploader_names(&state.db, &models)
        .await
        .map_err(fail)?;
    let rows = models
        .iter()
        .map(|m| import_row(&page, m, &names))
        .collect();
    let statuses = Status::ALL
        .iter()
        .map(|&s| Choice {
            code: s.code(),
            label: status_badge(&page, s).label.to_owned(),
        })
        .collect();
    let status = status.map_or("", Status::code).to_owned();
    let base = match query_of(&[("status", &status)]) {
        q if q.is_empty() => "/roster/imports".to_owned(),
        q => format!("/roster/imports?{q}"),
    };
    let pager = Pager::new(&base, n, IMPORTS_PER_PAGE, total);
    Ok(render(&ImportsPage {
        page,
        status,
        statuses,
        rows,
        pager,
    }))
}

// ---- one import ----

/// One rejected row's problem.
pub struct ErrorRow {
    /// Sheet name.
    pub sheet: String,
    /// Row number as the spreadsheet shows it.
    pub row: i64,
    /// Column header.
    pub column: String,
    /// The cell as read.
    pub value: String,
    /// What is wrong, in the page's language.
    pub message: String,
}

/// A sheet of an import as its result page shows it: read from the import's stored `sheets`,
/// whose older entries have no columns or warnings yet.
#[derive(Deserialize)]
pub struct SheetView {
    /// Sheet name.
    pub name: String,
    /// Row number of the header, when found.
    #[serde(default)]
    pub header_row: Option<u32>,
    /// Why no roster was found in it.
    #[serde(default)]
    pub note: Option<String>,
    /// The same in English (none in older imports).
    #[serde(default)]
    pub note_en: Option<String>,
    /// Its named columns.
    #[serde(default)]
    pub columns: Vec<ColumnView>,
    /// Its warnings.
    #[serde(default)]
    pub warnings: Vec<WarningView>,
}

/// One column of a sheet and what it was read as.
#[derive(Deserialize)]
pub struct ColumnView {
    /// Column letter.
    #[serde(default)]
    pub letter: String,
    /// Header as written.
    pub column: String,
    /// Field code, or none.
    #[serde(default)]
    pub field: Option<String>,
}

/// A warning about a sheet's columns, in both languages.
#[derive(Deserialize)]
pub struct WarningView {
    /// Chinese.
    pub message_zh: String,
    /// English.
    pub message_en: String,
}

impl ColumnView {
    /// The field in the page's language; none for a column kept as extra data.
    pub fn read_as(&self) -> Option<&'static str> {
        let f = crate::roster::columns::Field::from_code(self.field.as_deref()?)?;
        Some(current_lang().pick(f.label_zh(), f.words_en()))
    }
}

impl SheetView {
    /// Why no roster was found, in the page's language when it is known in it.
    pub fn why_no_roster(&self) -> Option<&str> {
        match (current_lang(), &self.note_en) {
            (crate::domain::Lang::En, Some(en)) => Some(en),
            _ => self.note.as_deref(),
        }
    }
}

impl WarningView {
    /// The warning in the page's language.
    pub fn message(&self) -> &str {
        current_lang().pick(&self.message_zh, &self.message_en)
    }
}

/// The sheets of a stored import; none for an import not yet finished or one that failed.
fn sheets_of(m: &roster_import::Model) -> Vec<SheetView> {
    m.sheets
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "roster/show.html")]
struct ImportPage {
    page: Page,
    imp: ImportRow,
    status: String,
    finished: Option<String>,
    format: String,
    size: String,
    sha_short: String,
    sha256: String,
    failure: Option<String>,
    progress: LiveProgress,
    errors: Vec<ErrorRow>,
    pager: Pager,
    sheets: Vec<SheetView>,
    /// Whether this user may undo the import (`roster::revert` decides; the page only offers).
    can_revert: bool,
    /// When it was undone.
    reverted: Option<String>,
    /// The second step: what it would change or changed, and who may activate it.
    plan: Option<super::roster_plan::PlanView>,
    /// Columns can be read otherwise (a validated or failed import whose file is kept).
    can_remap: bool,
    /// The import's version, sent back with a correction.
    version: i32,
    /// The fields a column can be read as; the empty code is none.
    field_choices: Vec<Choice>,
}

#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<u64>,
}

async fn import_page(
    State(state): State<AppState>,
    web: WebUser,
    source: Source,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::ROSTER_IMPORTER)?;
    let fail = |e| app_error_page(Some(user.clone()), e);
    let m = history::find_visible(&state.db, &user, id)
        .await
        .map_err(fail)?;
    // The page lists the rejected rows, names and ID numbers included.
    let read = Read::new(&user, &source, Action::RejectedRows);
    state
        .access_log
        .record(read.resource(format!("roster_import:{id}")))
        .await;
    let page = Page::new("roster.result_title", Some(user.clone()), "/roster/imports");
    let lang = current_lang();
    let names = history::uploader_names(&state.db, std::slice::from_ref(&m))
        .await
        .map_err(fail)?;
    let n = super::page_number(q.page);
    let (errors, total) = import::errors_page(&state.db, id, n, ERRORS_PER_PAGE)
        .await
        .map_err(|e| fail(e.into()))?;
    let errors = errors
        .iter()
        .map(|e| ErrorRow {
            sheet: e.sheet.clone(),
            row: e.row_number,
            column: e.column_name.clone(),
            // A valid ID number (a duplicate row, say) is a real person's: masked here, whole
            // in the download the clerk fixes the file from. An invalid one stays as typed, so
            // the typo can be seen.
            value: crate::domain::IdNumber::parse(&e.value)
                .map(|id| id.masked())
                .unwrap_or_else(|_| e.value.clone()),
            message: import::error_message(e, lang).to_owned(),
        })
        .collect();
    let (rows_done, rows_total) = state.imports.get(id).unwrap_or((m.rows_done, m.rows_total));
    let imp = import_row(&page, &m, &names);
    Ok(render(&ImportPage {
        status: m.status.code().to_owned(),
        finished: m.finished_at.as_ref().map(fmt::at),
        format: m.format.clone(),
        size: format!("{} B", fmt::count(m.file_size)),
        sha_short: m.sha256.chars().take(12).collect(),
        sha256: m.sha256.clone(),
        failure: m
            .error
            .as_deref()
            .map(|e| history::failure_in(e, lang).to_owned()),
        progress: {
            // A declared size the rows outgrew is no total: say the rows read alone.
            let total = if rows_done <= rows_total {
                rows_total
            } else {
                0
            };
            LiveProgress {
                live: matches!(m.status, Status::Queued | Status::Running),
                id,
                done: rows_done,
                total,
                done_text: fmt::count(rows_done),
                total_text: if total > 0 {
                    fmt::count(total)
                } else {
                    String::new()
                },
                status: imp.badge.label,
            }
        },
        errors,
        pager: Pager::new(&format!("/roster/imports/{id}"), n, ERRORS_PER_PAGE, total),
        sheets: sheets_of(&m),
        // Offered to a second person only: the uploader cannot undo their own import.
        can_revert: m.status == Status::Succeeded
            && m.duplicate_of.is_none()
            && m.reverted_at.is_none()
            && m.created_by != Some(user.id),
        reverted: m.reverted_at.as_ref().map(fmt::at),
        plan: super::roster_plan::plan_view(&state, &user, &m)
            .await
            .map_err(fail)?,
        can_remap: matches!(m.status, Status::Validated | Status::Failed) && m.purged_at.is_none(),
        version: m.version,
        field_choices: std::iter::once(Choice {
            code: "",
            label: page.t.get("roster.kept_as_extra").to_owned(),
        })
        .chain(crate::roster::columns::Field::ALL.iter().map(|f| Choice {
            code: f.label_en(),
            label: lang.pick(f.label_zh(), f.words_en()).to_owned(),
        }))
        .collect(),
        page,
        imp,
    }))
}
