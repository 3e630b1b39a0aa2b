//! The payment service's refusals, each with its code and its messages.

use crate::domain::{Label, Lang, Localized};
use crate::error::{AppError, Msg};

use super::BatchState;
use super::return_file::FileProblem;

/// Why a batch is not drafted or not moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRefusal {
    /// No approved, unpaid subsidy with payee details matches the filters.
    NothingToPay {
        /// Matching subsidies whose case has no payee details yet.
        without_payee: u64,
    },
    /// The person who drafted a batch does not approve it.
    OwnBatch,
    /// The batch's state does not allow the action.
    NotAllowed {
        /// The batch.
        id: i64,
        /// Its state.
        state: BatchState,
        /// Its version.
        version: i32,
        /// What was asked, as a verb.
        action: &'static str,
    },
    /// The batch changed since the client read it.
    Stale {
        /// Its state.
        state: BatchState,
        /// Its version now.
        version: i32,
    },
    /// The payee details changed since the client read them.
    PayeeStale {
        /// Their version now.
        version: i32,
    },
    /// The bank file waits for the public notice, which was not produced.
    NoNotice,
    /// The bank file waits for the notice's period to end.
    NoticeRunning {
        /// Its last day.
        until: chrono::NaiveDate,
    },
    /// The bank file waits for the open objections to be resolved.
    ObjectionsOpen {
        /// How many.
        count: u64,
    },
    /// Objections are recorded only while the notice runs.
    NoticeNotRunning {
        /// Its last day, if it was produced.
        until: Option<chrono::NaiveDate>,
    },
    /// The objection was resolved already.
    ObjectionResolved {
        /// The objection.
        id: i64,
    },
}

impl PaymentRefusal {
    /// The batch's state does not allow what was asked (`action` as a verb: "cannot be ...").
    pub fn not_allowed(b: &entity::payment_batch::Model, action: &'static str) -> PaymentRefusal {
        PaymentRefusal::NotAllowed {
            id: b.id,
            state: b.state,
            version: b.version,
            action,
        }
    }
}

impl Localized for PaymentRefusal {
    fn code(&self) -> &'static str {
        match self {
            PaymentRefusal::NothingToPay { .. } => "nothing_to_pay",
            PaymentRefusal::OwnBatch => "own_batch",
            PaymentRefusal::NotAllowed { .. } => "batch_transition_not_allowed",
            PaymentRefusal::Stale { .. } => "batch_stale",
            PaymentRefusal::PayeeStale { .. } => "payee_stale",
            PaymentRefusal::NoNotice => "notice_required",
            PaymentRefusal::NoticeRunning { .. } => "notice_running",
            PaymentRefusal::ObjectionsOpen { .. } => "objections_open",
            PaymentRefusal::NoticeNotRunning { .. } => "notice_not_running",
            PaymentRefusal::ObjectionResolved { .. } => "objection_resolved",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            PaymentRefusal::NothingToPay { without_payee: 0 } if zh => {
                "没有符合条件的已审核、未支付的救助金：请调整期间、地区、类别或医院。".to_owned()
            }
            PaymentRefusal::NothingToPay { without_payee: 0 } => {
                "No approved, unpaid subsidy matches: change the period, region, group or hospital."
                    .to_owned()
            }
            PaymentRefusal::NothingToPay { without_payee } if zh => format!(
                "没有可以发放的救助金：符合条件的 {without_payee} 笔所属案件尚未填写收款信息，请先在案件页填写。"
            ),
            PaymentRefusal::NothingToPay { without_payee } => format!(
                "Nothing can be paid: the {without_payee} matching subsidies belong to cases without payee details; add them on the case page first."
            ),
            PaymentRefusal::OwnBatch if zh => {
                "发放批次须由起草人以外的另一位管理人员审批。".to_owned()
            }
            PaymentRefusal::OwnBatch => {
                "A batch is approved by a second person, not the one who drafted it.".to_owned()
            }
            PaymentRefusal::NotAllowed {
                id, state, action, ..
            } if zh => format!(
                "批次 #{id} 当前为“{}”，不能{action}。",
                state.label(Lang::Zh)
            ),
            PaymentRefusal::NotAllowed {
                id, state, action, ..
            } => format!(
                "Batch #{id} is {}; it cannot be {action}.",
                state.label(Lang::En).to_lowercase()
            ),
            PaymentRefusal::Stale { version, .. } if zh => {
                format!("批次已被他人修改（当前版本 {version}）：请刷新后再操作。")
            }
            PaymentRefusal::Stale { version, .. } => format!(
                "The batch changed since you read it (now version {version}): reload it and try again."
            ),
            PaymentRefusal::PayeeStale { version } if zh => {
                format!("收款信息已被他人修改（当前版本 {version}）：请刷新后再保存。")
            }
            PaymentRefusal::PayeeStale { version } => format!(
                "The payee details changed since you read them (now version {version}): reload and save again."
            ),
            PaymentRefusal::NoNotice if zh => {
                "发放前须先公示：请先生成本批次的公示，公示期满后再导出银行文件。".to_owned()
            }
            PaymentRefusal::NoNotice => {
                "The batch is publicly noticed before it is paid: produce its notice first, and export after the notice period.".to_owned()
            }
            PaymentRefusal::NoticeRunning { until } if zh => {
                format!("公示期至 {until} 止，期满后方可导出银行文件。")
            }
            PaymentRefusal::NoticeRunning { until } => {
                format!("The notice runs until {until}; the bank file can be exported after it.")
            }
            PaymentRefusal::ObjectionsOpen { count } if zh => format!(
                "本批次有 {count} 条异议尚未处理：请先处理异议（成立或不成立），再导出银行文件。"
            ),
            PaymentRefusal::ObjectionsOpen { count } => format!(
                "{count} objections to this batch are open: resolve them (upheld or dismissed) before the bank file is exported."
            ),
            PaymentRefusal::NoticeNotRunning { until: Some(until) } if zh => format!(
                "异议只能在公示期内登记，本批次的公示期已于 {until} 结束。"
            ),
            PaymentRefusal::NoticeNotRunning { until: Some(until) } => format!(
                "Objections are recorded while the notice runs; this batch's ended on {until}."
            ),
            PaymentRefusal::NoticeNotRunning { until: None } if zh => {
                "本批次尚未公示：异议只能在公示期内登记。".to_owned()
            }
            PaymentRefusal::NoticeNotRunning { until: None } => {
                "This batch has not been noticed: objections are recorded while its notice runs.".to_owned()
            }
            PaymentRefusal::ObjectionResolved { id } if zh => format!("异议 #{id} 已处理过。"),
            PaymentRefusal::ObjectionResolved { id } => {
                format!("Objection #{id} was resolved already.")
            }
        }
    }
}

impl From<PaymentRefusal> for AppError {
    fn from(r: PaymentRefusal) -> AppError {
        let msg = Msg::new(r.message(Lang::Zh), r.message(Lang::En));
        let code = r.code();
        match r {
            PaymentRefusal::NothingToPay { .. } => AppError::Unprocessable {
                code,
                message: msg,
                details: vec![],
            },
            PaymentRefusal::OwnBatch => AppError::Forbidden { code, message: msg },
            PaymentRefusal::NotAllowed { state, version, .. }
            | PaymentRefusal::Stale { state, version } => AppError::StateConflict {
                code,
                message: msg,
                state: state.code().to_owned(),
                version,
                allowed: super::allowed(state)
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
            },
            PaymentRefusal::NoNotice
            | PaymentRefusal::NoticeRunning { .. }
            | PaymentRefusal::ObjectionsOpen { .. }
            | PaymentRefusal::NoticeNotRunning { .. }
            | PaymentRefusal::ObjectionResolved { .. } => AppError::conflict(code, msg),
            PaymentRefusal::PayeeStale { version } => AppError::StateConflict {
                code,
                message: msg,
                state: String::new(),
                version,
                allowed: vec![],
            },
        }
    }
}

/// Why a return file is refused whole; nothing of it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnRefusal {
    /// No layout of this name reads return files.
    NoLayout(String),
    /// The file could not be read.
    Unreadable(FileProblem),
    /// The file is another batch's.
    WrongBatch {
        /// The number it carries.
        found: String,
        /// This batch's number.
        batch_no: String,
    },
    /// No payment row.
    Empty,
    /// More rows than the batch could have.
    TooManyRows {
        /// The most it may have.
        max_rows: i64,
    },
    /// The control lines' count is not the rows read: a file cut short or added to.
    CountMismatch {
        /// What the file says.
        declared: i64,
        /// Rows read.
        rows: i64,
    },
    /// The control lines' total is not the sum of the rows.
    TotalMismatch {
        /// What the file says, in fen.
        declared_fen: i64,
        /// The rows' sum, in fen.
        rows_fen: i64,
    },
}

impl ReturnRefusal {
    /// The refusal as a problem on one field of the form.
    pub fn into_field(self, field: &str) -> AppError {
        AppError::field(field, &self)
    }
}

impl Localized for ReturnRefusal {
    fn code(&self) -> &'static str {
        match self {
            ReturnRefusal::NoLayout(_) => "unknown_layout",
            ReturnRefusal::Unreadable(_) => "return_file_unreadable",
            ReturnRefusal::WrongBatch { .. } => "return_file_wrong_batch",
            ReturnRefusal::Empty => "return_file_empty",
            ReturnRefusal::TooManyRows { .. } => "return_file_too_long",
            ReturnRefusal::CountMismatch { .. } | ReturnRefusal::TotalMismatch { .. } => {
                "return_file_control_mismatch"
            }
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let yuan = |fen: i64| crate::domain::Money::from_fen(fen).to_string();
        match self {
            ReturnRefusal::NoLayout(name) if zh => format!(
                "没有名为“{name}”且能读取回盘文件的格式：可用 {}。",
                return_layouts()
            ),
            ReturnRefusal::NoLayout(name) => format!(
                "No layout named '{name}' reads return files: use {}.",
                return_layouts()
            ),
            ReturnRefusal::Unreadable(p) => unreadable(p, lang),
            ReturnRefusal::WrongBatch { found, batch_no } if zh => format!(
                "回盘文件的批次号为“{found}”，不是本批次 {batch_no}：请上传本批次的回盘文件。"
            ),
            ReturnRefusal::WrongBatch { found, batch_no } => format!(
                "The return file is for batch '{found}', not {batch_no}: upload this batch's return file."
            ),
            ReturnRefusal::Empty if zh => "回盘文件中没有任何付款记录。".to_owned(),
            ReturnRefusal::Empty => "The return file holds no payment row.".to_owned(),
            ReturnRefusal::TooManyRows { max_rows } if zh => format!(
                "回盘文件的记录超过 {max_rows} 行，多于本批次可能有的：请确认文件是否属于本批次。"
            ),
            ReturnRefusal::TooManyRows { max_rows } => format!(
                "The return file has more than {max_rows} rows, more than this batch can have: check that it is this batch's."
            ),
            ReturnRefusal::CountMismatch { declared, rows } if zh => format!(
                "回盘文件的汇总行写明 {declared} 笔，实际读到 {rows} 笔：文件可能不完整，请向银行重新索取。"
            ),
            ReturnRefusal::CountMismatch { declared, rows } => format!(
                "The return file's control line says {declared} rows, {rows} were read: the file may be incomplete; ask the bank for it again."
            ),
            ReturnRefusal::TotalMismatch {
                declared_fen,
                rows_fen,
            } if zh => format!(
                "回盘文件的汇总金额为 {} 元，各笔合计 {} 元：文件可能不完整，请向银行重新索取。",
                yuan(*declared_fen),
                yuan(*rows_fen)
            ),
            ReturnRefusal::TotalMismatch {
                declared_fen,
                rows_fen,
            } => format!(
                "The return file's control total is {} yuan, its rows add up to {} yuan: the file may be incomplete; ask the bank for it again.",
                yuan(*declared_fen),
                yuan(*rows_fen)
            ),
        }
    }
}

fn return_layouts() -> String {
    super::layout::all()
        .iter()
        .filter(|l| l.returns.is_some())
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join("、")
}

fn unreadable(p: &FileProblem, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match p {
        FileProblem::LineTooLong { line } if zh => format!(
            "回盘文件第 {line} 行超过 {} 字节，不是银行的回盘格式。",
            super::return_file::MAX_LINE_BYTES
        ),
        FileProblem::LineTooLong { line } => format!(
            "Line {line} of the return file is longer than {} bytes: not a bank's return file.",
            super::return_file::MAX_LINE_BYTES
        ),
        FileProblem::Control {
            line,
            field: Some(f),
        } if zh => format!(
            "回盘文件第 {line} 行（汇总行）的“{}”无法读取：请确认所选格式与银行的回盘文件一致。",
            f.label(lang)
        ),
        FileProblem::Control {
            line,
            field: Some(f),
        } => format!(
            "The {} on line {line} (a control line) of the return file cannot be read: check that the layout is the bank's.",
            f.label(lang)
        ),
        FileProblem::Control { line, field: None } if zh => format!(
            "回盘文件第 {line} 行应为汇总行，但其格式不符：请确认所选格式与银行的回盘文件一致。"
        ),
        FileProblem::Control { line, field: None } => format!(
            "Line {line} of the return file should be a control line and is not: check that the layout is the bank's."
        ),
        FileProblem::NoTitles { titles } if zh => {
            format!("回盘表格中找不到标题行（应含：{}）。", titles.join("、"))
        }
        FileProblem::NoTitles { titles } => format!(
            "The return workbook has no title row (with: {}).",
            titles.join(", ")
        ),
        FileProblem::Unreadable(why) if zh => format!("回盘文件无法读取：{why}"),
        FileProblem::Unreadable(why) => format!("The return file cannot be read: {why}"),
    }
}

impl From<ReturnRefusal> for AppError {
    fn from(r: ReturnRefusal) -> AppError {
        r.into_field("file")
    }
}
