//! Administrators' pages: user accounts, hospitals, subsidy policies and the audit log. Pages
//! read through the domain services; their forms post to the JSON API (static/app.js, and
//! static/admin.js for the policy form that can clear a date), so the API's checks and
//! messages are the only ones.

mod access_log;
mod audit;
mod hospitals;
mod policies;
mod users;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::error_page;
use super::i18n::Texts;
use crate::auth::CurrentUser;
use crate::error::current_lang;
use crate::state::AppState;

/// This area's page texts.
pub const TEXTS: Texts = &[
    // users
    ("admin.users.title", "用户管理", "Users"),
    ("admin.users.new", "新建用户", "New user"),
    ("admin.user.title", "用户账号", "User account"),
    ("admin.username", "用户名", "Username"),
    (
        "admin.username_hint",
        "3到32个字母、数字或 . _ - 字符，用于登录。",
        "3 to 32 letters, digits, '.', '_' or '-'; used to log in.",
    ),
    ("admin.display_name", "姓名", "Name"),
    (
        "admin.display_name_hint",
        "页面上显示的名字；不填则用用户名。",
        "Shown on the pages; the username when empty.",
    ),
    ("admin.password", "初始密码", "Initial password"),
    (
        "admin.password_hint",
        "至少12个字符，不能是用户名，不能是常见密码；一句好记的话最好。",
        "At least 12 characters, not the username, not a common password; a short sentence works best.",
    ),
    ("admin.roles", "角色", "Roles"),
    ("admin.region", "数据范围", "Data scope"),
    (
        "admin.region_hint",
        "全省、一个市或一个县（区），须在您自己的数据范围以内：",
        "The province, a city or a county, inside your own scope:",
    ),
    ("admin.status", "状态", "Status"),
    ("admin.active", "启用", "Active"),
    ("admin.inactive", "已停用", "Disabled"),
    ("admin.last_login", "最近登录", "Last login"),
    (
        "admin.last_login_hint",
        "最近登录时间取自尚未退出或过期的登录；显示“—”表示不详。",
        "The last login is known from sessions not yet ended or expired; “—” means unknown.",
    ),
    ("admin.create_user", "创建用户", "Create the user"),
    ("admin.edit_user", "修改账号", "Change the account"),
    ("admin.save", "保存修改", "Save the changes"),
    ("admin.saved", "已保存。", "Saved."),
    ("admin.created_at", "创建时间", "Created"),
    ("admin.updated_at", "修改时间", "Last changed"),
    ("admin.deactivate", "停用此账号", "Disable this account"),
    (
        "admin.reactivate",
        "重新启用此账号",
        "Enable this account again",
    ),
    (
        "admin.deactivate_hint",
        "停用后该用户立即退出登录且不能再登录；其经办记录保留。",
        "A disabled user is logged out at once and cannot log in; their records stay.",
    ),
    (
        "admin.deactivate_confirm",
        "确定停用此账号吗？",
        "Disable this account?",
    ),
    ("admin.reset_password", "重置密码", "Reset the password"),
    ("admin.new_password", "新密码", "New password"),
    (
        "admin.sessions",
        "登录与动态验证码",
        "Sessions and second factor",
    ),
    (
        "admin.end_sessions",
        "结束该用户的所有登录",
        "End all of this user's sessions",
    ),
    (
        "admin.end_sessions_hint",
        "账号可能被他人使用时：该用户在所有电脑和手机上都要重新登录。",
        "When someone else may be using the account: the user must log in again everywhere.",
    ),
    (
        "admin.end_sessions_confirm",
        "确定结束该用户的所有登录吗？",
        "End all of this user's sessions?",
    ),
    (
        "admin.second_factor_on",
        "该用户已启用动态验证码。手机丢失且恢复码也用完或丢失时，可以解除绑定；用户下次登录时重新绑定。",
        "This user has a second factor. If the phone and the recovery codes are lost, remove it; the user enrols again at the next login.",
    ),
    (
        "admin.second_factor_off",
        "该用户未启用动态验证码。",
        "This user has no second factor.",
    ),
    (
        "admin.remove_second_factor",
        "解除动态验证码",
        "Remove the second factor",
    ),
    (
        "admin.remove_second_factor_confirm",
        "确定解除该用户的动态验证码吗？其所有登录也会结束。",
        "Remove this user's second factor? All their sessions end too.",
    ),
    (
        "admin.reset_hint",
        "重置后该用户的所有登录立即失效，须用新密码重新登录。",
        "Resetting ends every session of the user; they log in again with the new password.",
    ),
    ("admin.back_users", "返回用户列表", "Back to the users"),
    // hospitals
    ("admin.hospitals.title", "定点医院", "Hospitals"),
    ("admin.hospital.code", "医院编码", "Code"),
    (
        "admin.hospital.code_hint",
        "如 H220104001；全角字符和小写字母会自动转换。",
        "Such as H220104001; full-width characters and lower case are folded.",
    ),
    ("admin.hospital.name", "医院名称", "Name"),
    ("admin.hospital.region", "所在地区", "Region"),
    (
        "admin.hospital.choose_region",
        "请选择县（区）",
        "Choose a county",
    ),
    ("admin.hospital.designated", "定点医院", "Designated"),
    ("admin.hospital.designated_yes", "定点", "Designated"),
    ("admin.hospital.designated_no", "非定点", "Not designated"),
    (
        "admin.hospital.designated_hint",
        "只有在定点医院的就诊才能申请救助金。",
        "Only visits at designated hospitals may be subsidised.",
    ),
    ("admin.hospital.new", "登记医院", "Register a hospital"),
    ("admin.hospital.create", "登记", "Register"),
    ("admin.hospital.registered", "登记时间", "Registered"),
    ("admin.hospital.kind", "类型", "Kind"),
    // policies
    ("admin.policies.title", "救助政策", "Subsidy policies"),
    ("admin.policy.title", "救助政策", "Subsidy policy"),
    ("admin.policy.id", "编号", "No."),
    ("admin.policy.group", "救助类别", "Group"),
    ("admin.policy.from", "起始日期", "From"),
    ("admin.policy.to", "终止日期", "To"),
    ("admin.policy.open_ended", "长期有效", "Open-ended"),
    ("admin.policy.rate", "救助比例", "Rate"),
    (
        "admin.policy.rate_hint",
        "0 到 1 之间的小数，如 0.60 即 60%。",
        "A fraction from 0 to 1: 0.60 is 60%.",
    ),
    (
        "admin.policy.deductible",
        "起付线（元）",
        "Deductible (yuan)",
    ),
    (
        "admin.policy.per_visit_cap",
        "单次封顶（元）",
        "Per-visit cap (yuan)",
    ),
    (
        "admin.policy.annual_cap",
        "年度封顶（元）",
        "Annual cap (yuan)",
    ),
    ("admin.policy.in_use", "就诊使用", "Used by visits"),
    ("admin.policy.used", "已被使用", "Used"),
    ("admin.policy.unused", "未使用", "Not used"),
    ("admin.policy.new", "新建政策", "New policy"),
    ("admin.policy.create", "创建政策", "Create the policy"),
    (
        "admin.policy.overlap_hint",
        "同一类别的政策有效期不能重叠。新政策的起始日期若落在该类别一条长期有效的政策之内，那条政策自动终止于新政策起始日的前一天（若那天之后已有就诊使用它，则不能创建）；其他重叠一律拒绝。",
        "Policies of one group never overlap. A new policy that starts inside the group's open-ended policy ends that one the day before it starts (refused if visits after that day used it); any other overlap is refused.",
    ),
    (
        "admin.policy.to_hint",
        "留空表示长期有效，直到被新政策接替。",
        "Leave empty for open-ended, until a new policy follows it.",
    ),
    (
        "admin.policy.none",
        "此类别暂无政策。",
        "No policy for this group yet.",
    ),
    ("admin.policy.choose", "（请选择）", "(choose)"),
    ("admin.policy.edit", "修改政策", "Correct the policy"),
    (
        "admin.policy.in_use_note",
        "此政策已被就诊记录使用，不能修改：如需调整，请新建一条从某日起生效的政策来接替它。",
        "Visits have used this policy, so it cannot be edited: create a new policy that follows it from a date.",
    ),
    (
        "admin.policy.edit_hint",
        "只有尚未被任何就诊使用的政策可以修改。",
        "Only a policy no visit has used can be corrected.",
    ),
    (
        "admin.back_policies",
        "返回政策列表",
        "Back to the policies",
    ),
    // access log
    ("access_log.title", "查阅记录", "Access log"),
    (
        "access_log.intro",
        "谁在何时查阅了谁的个人信息（资格核验、个案、救助明细、对账单、名单条目、名册记录、错误行下载）。按身份证号码查询请用下方表单，号码不会出现在网址中。",
        "Who read whose personal data, and when (eligibility checks, cases, visits, statements, roster entries, roster histories, rejected-rows downloads). Search by ID number with the form below: the number never appears in the address.",
    ),
    ("access_log.person_id", "人员编号", "Person id"),
    ("access_log.id_number", "身份证号码", "ID number"),
    (
        "access_log.username",
        "查阅人（用户名）",
        "Reader (username)",
    ),
    ("access_log.at", "时间", "When"),
    ("access_log.action", "查阅内容", "What"),
    ("access_log.person", "人员", "Person"),
    ("access_log.resource", "对象", "Record"),
    ("access_log.route", "接口", "Route"),
    ("access_log.client", "来源地址", "From address"),
    (
        "access_log.search_id",
        "按身份证号码查询",
        "Search by ID number",
    ),
    (
        "access_log.bad_person_id",
        "人员编号应为正整数，例如 12。",
        "A person id is a positive whole number, e.g. 12.",
    ),
    (
        "access_log.bad_id_number",
        "身份证号码格式不正确：请输入 18 位（或 15 位）号码。",
        "Not a valid ID number: enter the 18 (or 15) characters.",
    ),
    (
        "access_log.action.eligibility",
        "资格核验",
        "Eligibility check",
    ),
    (
        "access_log.action.roster_entries",
        "名单条目",
        "Roster entries",
    ),
    (
        "access_log.action.roster_history",
        "名册记录",
        "Roster history",
    ),
    ("access_log.action.case", "个案", "Case"),
    ("access_log.action.visit", "救助明细", "Visit"),
    ("access_log.action.statement", "年度对账单", "Statement"),
    (
        "access_log.action.rejected_rows",
        "导入错误行",
        "Rejected rows",
    ),
    ("access_log.action.export", "导出", "Export"),
    // audit
    ("admin.audit.title", "操作日志", "Audit log"),
    ("admin.audit.at", "时间", "When"),
    ("admin.audit.actor", "操作人（用户名）", "Who (username)"),
    ("admin.audit.action", "操作", "Action"),
    (
        "admin.audit.action_hint",
        "完整操作如 user.create，或以“.”结尾的前缀如 user.",
        "An action such as user.create, or a prefix ending in '.' such as user.",
    ),
    ("admin.audit.entity", "对象", "Record"),
    ("admin.audit.entity_type", "对象类型", "Record type"),
    ("admin.audit.entity_id", "对象编号", "Record id"),
    ("admin.audit.from", "起始日期", "From"),
    ("admin.audit.to", "截止日期", "To"),
    ("admin.audit.change", "变更内容", "Change"),
    ("admin.audit.before", "修改前", "Before"),
    ("admin.audit.after", "修改后", "After"),
    ("admin.audit.show", "查看", "Show"),
    (
        "admin.audit.bad_date",
        "日期无效：请用 YYYY-MM-DD。",
        "Not a date: use YYYY-MM-DD.",
    ),
    ("admin.entity.user", "用户", "User"),
    ("admin.entity.hospital", "医院", "Hospital"),
    ("admin.entity.policy", "救助政策", "Policy"),
    ("admin.entity.case", "救助案件", "Case"),
    ("admin.entity.visit", "就诊记录", "Visit"),
    ("admin.entity.roster_import", "名册导入", "Roster import"),
];

/// This area's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users::list))
        .route("/admin/users/{id}", get(users::show))
        .route("/admin/hospitals", get(hospitals::list))
        .route("/admin/policies", get(policies::list))
        .route("/admin/policies/{id}", get(policies::show))
        .route("/admin/audit", get(audit::list))
        .route(
            "/admin/access-log",
            get(access_log::list).post(access_log::search),
        )
        .route(
            "/static/admin.js",
            get(|| async { crate::web::javascript(include_str!("../../../static/admin.js")) }),
        )
}

/// A record id from the path; anything else is a page that does not exist.
#[allow(clippy::result_large_err)]
fn id_of(raw: &str, user: &CurrentUser) -> Result<i64, Response> {
    raw.parse().map_err(|_| {
        error_page(
            Some(user.clone()),
            StatusCode::NOT_FOUND,
            super::Tr(current_lang()).get("error.not_found").to_owned(),
        )
    })
}
