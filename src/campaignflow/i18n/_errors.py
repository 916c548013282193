"""zh_CN and en messages for the error codes (``CampaignflowError.code``)."""

from __future__ import annotations

__all__ = ["ERROR_MESSAGES"]

#: One entry per error code the library raises. ``{detail}`` is the English text of an error
#: whose raise site gives no finer code; the rest carry their data as params.
ERROR_MESSAGES: dict[str, dict[str, str]] = {
    "error": {"zh_CN": "campaignflow 出错：{detail}", "en": "{detail}"},
    "validation.invalid": {"zh_CN": "输入有误：{detail}", "en": "{detail}"},
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
