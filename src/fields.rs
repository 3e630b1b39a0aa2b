//! The words for the fields of the API's bodies and queries, in Chinese and English. A message
//! names a field by these, never by its JSON name: the clerk reading "请检查：出院日期、总费用"
//! knows what to fix, "discharged_on, total_cost" tells them nothing. The JSON names stay in
//! each problem's `field`, for programs and for the pages to put the message beside its input.

use crate::domain::Lang;

/// (JSON name, Chinese, English).
const FIELDS: &[(&str, &str, &str)] = &[
    ("account_kind", "账户类型", "Account type"),
    ("account_no", "账号", "Account number"),
    ("active", "启用状态", "Active"),
    ("address", "住址", "Address"),
    ("admitted_on", "入院日期", "Admission date"),
    ("amount", "金额", "Amount"),
    ("annual_cap", "年度救助上限", "Annual cap"),
    ("bank_name", "开户银行", "Bank"),
    ("case_id", "案件号", "Case"),
    ("code", "编码", "Code"),
    (
        "confirm_full_replace",
        "全量导入确认",
        "Full-replace confirmation",
    ),
    (
        "critical_illness_paid",
        "大病保险报销",
        "Critical illness insurance",
    ),
    ("date", "日期", "Date"),
    ("decision", "处理结论", "Decision"),
    ("deductible", "起付线", "Deductible"),
    ("designated", "定点医院", "Designated"),
    ("diagnosis", "诊断", "Diagnosis"),
    ("diagnosis_code", "诊断编码", "Diagnosis code"),
    ("diagnosis_text", "诊断名称", "Diagnosis"),
    ("discharged_on", "出院日期", "Discharge date"),
    ("display_name", "姓名", "Display name"),
    ("effective_date", "生效日期", "Effective date"),
    ("effective_from", "生效日期", "Effective from"),
    ("effective_to", "截止日期", "Effective to"),
    ("file", "文件", "File"),
    ("filters", "筛选条件", "Filters"),
    ("format", "格式", "Format"),
    ("from", "起始日期", "From"),
    ("group", "救助类别", "Group"),
    ("group_by", "分组方式", "Group by"),
    ("holder", "收款人", "Payee"),
    ("hospital_id", "定点医院", "Hospital"),
    ("id_number", "身份证号码", "ID number"),
    ("insurance_paid", "医保报销", "Insurance paid"),
    ("invoice_no", "发票号", "Invoice number"),
    ("kind", "就诊类型", "Visit kind"),
    ("layout", "银行文件格式", "Bank file layout"),
    ("line_id", "付款参考号", "Payment reference"),
    ("medical_assistance_paid", "医疗救助", "Medical assistance"),
    ("mode", "导入方式", "Import mode"),
    ("name", "姓名", "Name"),
    ("note", "备注", "Note"),
    ("on", "日期", "Date"),
    ("page", "页码", "Page"),
    ("paid_on", "支付日期", "Date paid"),
    ("password", "密码", "Password"),
    ("payee_name", "收款人姓名", "Payee name"),
    ("payment_ref", "支付凭证号", "Payment reference"),
    ("per_page", "每页条数", "Per page"),
    ("per_visit_cap", "单次救助上限", "Per-visit cap"),
    ("phone", "联系电话", "Phone"),
    ("rate", "救助比例", "Rate"),
    ("reason", "原因", "Reason"),
    ("region", "地区", "Region"),
    ("region_code", "地区", "Region"),
    ("region_prefix", "数据范围", "Data scope"),
    ("reversed_on", "冲正日期", "Date reversed"),
    ("roles", "角色", "Roles"),
    ("state", "状态", "State"),
    ("status", "状态", "Status"),
    ("to", "截止日期", "To"),
    ("total_cost", "总费用", "Total cost"),
    ("username", "用户名", "Username"),
    ("version", "版本号", "Version"),
    ("visit_date", "就诊日期", "Visit date"),
    ("year", "救助年度", "Year"),
];

/// A field's name in a language; a field this table does not know is called "this field"
/// rather than by its JSON name (`tests/api/field_words.rs` finds any such gap).
pub fn label(field: &str, lang: Lang) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, ..)| *f == field)
        .map_or(lang.pick("此项", "This field"), |(_, zh, en)| {
            lang.pick(zh, en)
        })
}

/// Whether the table knows the field.
pub fn known(field: &str) -> bool {
    FIELDS.iter().any(|(f, ..)| *f == field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_listed_once_in_order() {
        let names: Vec<&str> = FIELDS.iter().map(|(f, ..)| *f).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "sorted, no duplicates");
        assert_eq!(label("discharged_on", Lang::Zh), "出院日期");
        assert_eq!(label("no_such_field", Lang::En), "This field");
    }
}
