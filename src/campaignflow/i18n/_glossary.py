"""The domain's glossary (shared/domain.md): identifiers with their zh_CN and en terms."""

from __future__ import annotations

__all__ = ["GLOSSARY"]

GLOSSARY: dict[str, dict[str, str]] = {
    # roles
    "leading_group": {"zh_CN": "领导小组", "en": "leading group"},
    "supervision_group": {"zh_CN": "督导组", "en": "supervision group"},
    "superior_org": {"zh_CN": "上级党组织", "en": "superior organisation"},
    "unit_head": {"zh_CN": "一把手", "en": "unit head"},
    "branch_committee": {"zh_CN": "支委会", "en": "branch committee"},
    "leader_contact_point": {"zh_CN": "联系点", "en": "leader's contact point"},
    # stages
    "pending": {"zh_CN": "未开始", "en": "not started"},
    "preparation": {"zh_CN": "准备", "en": "preparation"},
    "study_mobilization": {"zh_CN": "学习动员", "en": "study and mobilisation"},
    "analysis_review": {"zh_CN": "分析评议", "en": "analysis and review"},
    "rectification": {"zh_CN": "整改提高", "en": "rectification"},
    "closing": {"zh_CN": "验收总结", "en": "acceptance and summing-up"},
    "accepted": {"zh_CN": "验收通过", "en": "accepted"},
    "in_progress": {"zh_CN": "主题教育", "en": "education under way"},
    "completed": {"zh_CN": "完成", "en": "completed"},
    "study_mobilization_remedial": {"zh_CN": "学习动员补课", "en": "study make-up"},
    "analysis_review_remedial": {"zh_CN": "分析评议补课", "en": "analysis and review make-up"},
    "rectification_remedial": {"zh_CN": "整改提高补课", "en": "rectification make-up"},
    "closing_remedial": {"zh_CN": "验收补课", "en": "acceptance make-up"},
    # milestones
    "implementation_plan": {"zh_CN": "实施方案", "en": "implementation plan"},
    "leading_group_established": {"zh_CN": "成立领导小组", "en": "leading group set up"},
    "mobilization_meeting": {"zh_CN": "动员大会", "en": "mobilisation meeting"},
    "advanced_standards_adopted": {
        "zh_CN": "制定先进性具体要求",
        "en": "advanced standards adopted",
    },
    "transition_application": {"zh_CN": "转段申请", "en": "transition application"},
    "opinions_solicited": {"zh_CN": "广泛征求意见", "en": "opinions solicited"},
    "heart_to_heart_talks": {"zh_CN": "谈心活动", "en": "heart-to-heart talks"},
    "party_spirit_report": {"zh_CN": "党性分析材料", "en": "party-spirit analysis reports"},
    "org_life_meeting": {"zh_CN": "专题组织生活会", "en": "thematic organisational-life meeting"},
    "democratic_life_meeting": {"zh_CN": "民主生活会", "en": "democratic-life meeting"},
    "democratic_appraisal": {"zh_CN": "民主评议", "en": "democratic appraisal"},
    "feedback_published": {"zh_CN": "反馈评议意见并公示", "en": "feedback given and published"},
    "rectification_plan_reviewed": {"zh_CN": "整改方案经审核", "en": "rectification plan reviewed"},
    "rectification_plan_published": {"zh_CN": "整改方案公示", "en": "rectification plan published"},
    "rectification_plan_filed": {"zh_CN": "整改方案备案", "en": "rectification plan filed"},
    "rectification_results_published": {
        "zh_CN": "整改结果公布",
        "en": "rectification results published",
    },
    "follow_up_review": {"zh_CN": "回访复查", "en": "follow-up review"},
    "summing_up": {"zh_CN": "总结", "en": "summing-up"},
    "remedial_completed": {"zh_CN": "补课完成", "en": "make-up completed"},
}
