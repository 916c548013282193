"""zh_CN and en messages for the error codes (``CampaignflowError.code``)."""

from __future__ import annotations

from campaignflow._validators import MAX_INT

__all__ = ["ERROR_MESSAGES", "VALIDATION_RULES"]

#: One entry per error code the library raises. ``{detail}`` is the English text of an error
#: whose raise site gives no finer code; the rest carry their data as params.
ERROR_MESSAGES: dict[str, dict[str, str]] = {
    "error": {"zh_CN": "campaignflow 出错：{detail}", "en": "{detail}"},
    "validation.invalid": {"zh_CN": "输入有误：{detail}", "en": "{detail}"},
    "validation.field": {
        "zh_CN": "{field}：{rule:term}，收到的是 {value}",
        "en": "{field}: {rule:term}, got {value}",
    },
    "validation.locale": {
        "zh_CN": "语言（locale）只能是 {choices} 之一，收到的是 {value}",
        "en": "locale: must be one of {choices}, got {value}",
    },
    "unknown_unit": {
        "zh_CN": "单位 {unit}：本次活动中没有这个单位",
        "en": "unit '{unit}': no such unit in this campaign",
    },
    "definition.invalid": {
        "zh_CN": "定义中有 {count} 处问题：",
        "en": "{count} problems in the definition:",
    },
    "definition.invalid_one": {
        "zh_CN": "定义中有 1 处问题：",
        "en": "1 problem in the definition:",
    },
    "definition.invalid_in": {
        "zh_CN": "定义（{source}）中有 {count} 处问题：",
        "en": "{count} problems in the definition in {source}:",
    },
    "definition.invalid_one_in": {
        "zh_CN": "定义（{source}）中有 1 处问题：",
        "en": "1 problem in the definition in {source}:",
    },
    "not_authorized": {"zh_CN": "无权执行此操作：{detail}", "en": "{detail}"},
    "concurrency.conflict": {
        "zh_CN": "单位 {unit}：状态已被其他操作同时修改（预期版本 {expected_version}），请重试",
        "en": "unit '{unit}': state changed concurrently (expected version {expected_version}); retry the command",
    },
    "audit.tampered": {
        "zh_CN": "审计记录被篡改，问题出在第 {seq} 条：{reason}",
        "en": "audit trail tampered at record {seq}: {reason}",
    },
    "audit.tampered_chain": {
        "zh_CN": "审计记录链被篡改：{reason}",
        "en": "audit trail tampered at the chain: {reason}",
    },
}

#: The rules field validators state, as glossary terms, so ``validation.field`` reads in
#: Chinese; a rule not listed here (one naming its options) shows in English.
VALIDATION_RULES: dict[str, dict[str, str]] = {
    rule: {"zh_CN": zh, "en": rule}
    for rule, zh in {
        "must be a finite number": "必须是有限的数",
        "must be >= 0": "不能小于 0",
        "must be >= 1": "不能小于 1",
        "must be at most 1000 (hours of one session)": "不能超过 1000（一次学习的学时）",
        "must be a whole number": "必须是整数",
        f"must be at most {MAX_INT} (64 bits)": f"不能超过 {MAX_INT}（64 位整数）",
        "must be a number between 0 and 1": "必须是 0 到 1 之间的数",
        "must be non-empty text": "不能为空",
        "must be text in valid Unicode, without NUL": "必须是有效的 Unicode 文本，且不含 NUL 字符",
        "must be true or false": "必须是 true 或 false",
        "must be a date": "必须是日期",
        "must be an id of letters, digits, '_', '-' or '.' starting with a letter or '_' "
        "(at most 200 characters)": "必须是由字母、数字、“_”、“-”或“.”组成并以字母或“_”开头的标识"
        "（最多 200 个字符）",
        "must be 1-200 printable characters without white space": "必须是 1 到 200 个可打印字符，不含空白",
        f"must be a whole number from 0 to {MAX_INT}": f"必须是 0 到 {MAX_INT} 之间的整数",
        f"must be a whole number from 1 to {MAX_INT}": f"必须是 1 到 {MAX_INT} 之间的整数",
    }.items()
}
