//! The words of the pages, in Simplified Chinese and English.

use crate::domain::Lang;

/// Looks up the page texts of one language; templates call `t.get("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

/// (key, Chinese, English). Keys are stable; a missing key shows itself, which a test catches.
const TEXTS: &[(&str, &str, &str)] = &[
    ("app.name", "肿瘤患者救助系统", "Cancer Patient Assistance"),
    ("app.org", "红十字会", "Red Cross"),
    ("nav.home", "首页", "Home"),
    ("nav.skip", "跳到正文", "Skip to content"),
    ("nav.menu", "主菜单", "Main menu"),
    ("nav.logout", "退出登录", "Log out"),
    ("nav.lang", "English", "中文"),
    ("nav.api_docs", "接口文档", "API documentation"),
    ("login.title", "登录", "Log in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    (
        "login.hint",
        "请使用管理员分配的账号登录。",
        "Log in with the account your administrator gave you.",
    ),
    ("home.title", "首页", "Home"),
    ("home.welcome", "欢迎", "Welcome"),
    ("home.roles", "角色", "Roles"),
    ("home.scope", "数据范围", "Data scope"),
    ("home.tasks", "您可以做的事", "What you can do here"),
    ("home.todo", "待办事项", "Waiting for you"),
    ("home.nothing", "暂无", "Nothing"),
    (
        "todo.imports_to_activate",
        "待您启用的导入（他人上传）",
        "Imports others uploaded, for you to activate",
    ),
    (
        "todo.own_imports_waiting",
        "您上传、尚未启用的导入",
        "Your imports not activated yet",
    ),
    (
        "todo.imports_failed",
        "近30天失败的导入",
        "Your imports that failed in the last 30 days",
    ),
    (
        "todo.cases_rejected",
        "本年度被退回的案件",
        "This year's rejected cases",
    ),
    (
        "todo.cases_without_visits",
        "本年度已批准、尚未登记就诊的案件",
        "This year's approved cases without a visit",
    ),
    (
        "todo.cases_to_decide",
        "待审批的救助案件",
        "Cases waiting for a decision",
    ),
    (
        "todo.subsidies_to_decide",
        "待审核的救助金",
        "Subsidies waiting for approval",
    ),
    (
        "todo.subsidies_to_pay",
        "已批准、未进入发放批次的救助金",
        "Approved subsidies in no payment batch",
    ),
    (
        "todo.batches_to_approve",
        "待复核的发放批次（他人起草）",
        "Batches others drafted, for you to approve",
    ),
    (
        "todo.batches_to_export",
        "已复核、待公示和导出的批次",
        "Approved batches: notice, then the bank file",
    ),
    (
        "todo.batches_to_reconcile",
        "已导出、待银行回盘的批次",
        "Exported batches waiting for the bank's return file",
    ),
    (
        "todo.budget_warnings",
        "使用已达80%的本年度预算额度",
        "This year's budget lines at 80 % or more",
    ),
    (
        "task.roster_importer",
        "导入低保、特困、优抚名册，查看导入结果和错误行。",
        "Import the low-income, extreme-hardship and entitled-care rosters; see each import's result and rejected rows.",
    ),
    (
        "task.caseworker",
        "核查患者救助资格，建立救助档案，登记就诊。",
        "Check a patient's eligibility, open cases and record visits.",
    ),
    (
        "task.approver",
        "审批救助档案和救助金。",
        "Approve cases and subsidies.",
    ),
    (
        "task.manager",
        "查看和导出救助金统计。",
        "Read and export spending totals.",
    ),
    (
        "task.admin",
        "管理用户、定点医院、救助政策，查看操作日志。",
        "Manage users, hospitals and policies; read the audit log.",
    ),
    ("error.title", "出错了", "Something went wrong"),
    (
        "error.forbidden",
        "您的角色不能使用此页面。",
        "Your role cannot use this page.",
    ),
    ("error.back", "返回首页", "Back to the home page"),
    (
        "error.not_found",
        "找不到此页面。",
        "There is no such page.",
    ),
    ("nav.roster_upload", "上传名册", "Upload a roster"),
    ("nav.roster_imports", "导入记录", "Imports"),
    ("nav.roster_approvals", "待启用导入", "Imports to activate"),
    ("nav.eligibility", "资格核查", "Eligibility"),
    ("nav.cases", "救助案件", "Cases"),
    ("nav.visits", "救助金", "Subsidies"),
    ("nav.approvals", "待审批", "Approvals"),
    ("nav.dashboard", "统计概览", "Dashboard"),
    ("nav.spending", "支出报表", "Spending report"),
    ("nav.users", "用户", "Users"),
    ("nav.hospitals", "定点医院", "Hospitals"),
    ("nav.policies", "救助政策", "Policies"),
    ("nav.audit", "操作日志", "Audit log"),
    ("nav.access_log", "查阅记录", "Access log"),
    ("pager.prev", "上一页", "Previous"),
    ("pager.next", "下一页", "Next"),
    ("pager.of", "共", "of"),
    ("pager.items", "条", "items"),
    ("pager.page", "第", "Page"),
    ("form.saving", "正在提交……", "Saving…"),
    (
        "form.failed",
        "提交失败，请检查下面标出的内容。",
        "Not saved: check the fields marked below.",
    ),
    (
        "form.network",
        "无法连接服务器，请稍后再试。",
        "The server could not be reached; try again.",
    ),
    ("common.search", "查询", "Search"),
    ("common.none", "暂无记录。", "Nothing here yet."),
    ("common.save", "保存", "Save"),
    ("common.yuan", "元", "yuan"),
    ("nav.payments", "发放批次", "Payments"),
    ("nav.budget", "预算额度", "Budget"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    ("common.all", "全部", "All"),
    ("common.download_xlsx", "下载 Excel", "Download .xlsx"),
    ("common.download_csv", "下载 CSV", "Download .csv"),
];

/// A table of page texts: (key, Chinese, English).
pub type Texts = &'static [(&'static str, &'static str, &'static str)];

/// Every table: the shared one here, and each area's own beside its pages.
const TABLES: &[Texts] = &[
    TEXTS,
    super::roster::TEXTS,
    super::roster_plan::TEXTS,
    super::cases::TEXTS,
    super::persons::TEXTS,
    super::reports::TEXTS,
    super::payments::TEXTS,
    super::visits::TEXTS,
    super::admin::TEXTS,
    super::account::TEXTS,
];

fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TABLES.iter().flat_map(|t| t.iter())
}

impl Tr {
    /// The text of `key` in this language.
    pub fn get(&self, key: &str) -> &'static str {
        match all().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => self.0.pick(zh, en),
            None => {
                tracing::warn!(key, "no page text for this key");
                "?"
            }
        }
    }

    /// `zh-CN` or `en` for the page's `lang` attribute.
    pub fn html_lang(&self) -> &'static str {
        match self.0 {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language the switch leads to.
    pub fn other(&self) -> &'static str {
        match self.0 {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }

    /// Every key, for the test that templates use no unknown key.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        all().map(|(k, _, _)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<&str> = Tr::keys().collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "a page text key is defined twice");
    }
}
