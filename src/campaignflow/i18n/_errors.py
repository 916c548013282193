"""zh_CN and en messages for the error codes (``CampaignflowError.code``)."""

from __future__ import annotations

from campaignflow._validators import MAX_INT

__all__ = ["ERROR_MESSAGES", "PROBLEM_MESSAGES", "VALIDATION_RULES"]

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
    "validation.payload": {
        "zh_CN": "{what}：{problems}",
        "en": "{what}: {problems}",
    },
    "validation.problems": {"zh_CN": "{problems}", "en": "{problems}"},
    "versions.adopt_refused": {
        "zh_CN": "采用 {ref}：被拒绝，未作任何改动：{problems}",
        "en": "adopt {ref}: refused, nothing changed: {problems}",
    },
    "versions.adopt_refused_more": {
        "zh_CN": "采用 {ref}：被拒绝，未作任何改动：{problems}；……另有 {hidden} 处",
        "en": "adopt {ref}: refused, nothing changed: {problems}; … and {hidden} more",
    },
    "store.unknown_driver.psycopg2": {
        "zh_CN": "store：{where} 是 {driver} 连接（{type}），内置的方言都不支持（sqlite3、psycopg 3）；"
        "campaignflow 通过 psycopg 3 连接 PostgreSQL：pip install 'psycopg[binary]'",
        "en": "store: {where} is a {driver} connection ({type}), which no shipped dialect speaks "
        "(sqlite3, psycopg 3); campaignflow speaks to PostgreSQL through psycopg 3: "
        "pip install 'psycopg[binary]'",
    },
    "store.unknown_driver.async": {
        "zh_CN": "store：{where} 是 {driver} 连接（{type}），内置的方言都不支持（sqlite3、psycopg 3）；"
        "存储是同步的：请使用同步的引擎或连接",
        "en": "store: {where} is a {driver} connection ({type}), which no shipped dialect speaks "
        "(sqlite3, psycopg 3); the store is synchronous: use a synchronous engine or connection",
    },
    "store.unknown_driver.other": {
        "zh_CN": "store：{where} 是 {driver} 连接（{type}），内置的方言都不支持（sqlite3、psycopg 3）；"
        "其他数据库请传入 dialect=（campaignflow.store.Dialect）",
        "en": "store: {where} is a {driver} connection ({type}), which no shipped dialect speaks "
        "(sqlite3, psycopg 3); pass dialect= (a campaignflow.store.Dialect) for another database",
    },
    "store.django_tables_missing": {
        "zh_CN": "store：Django 数据库 {using} 中没有 campaignflow 的表；请把 "
        "'campaignflow.contrib.django' 加入 INSTALLED_APPS 并运行 "
        "'python manage.py migrate campaignflow'",
        "en": "store: campaignflow's tables in Django database {using} are missing; add "
        "'campaignflow.contrib.django' to INSTALLED_APPS and run "
        "'python manage.py migrate campaignflow'",
    },
    "store.django_tables_old": {
        "zh_CN": "store：Django 数据库 {using} 中 campaignflow 的表结构版本为 {found}，不是 {latest}；"
        "请把 'campaignflow.contrib.django' 加入 INSTALLED_APPS 并运行 "
        "'python manage.py migrate campaignflow'",
        "en": "store: campaignflow's tables in Django database {using} are at schema version "
        "{found}, not {latest}; add 'campaignflow.contrib.django' to INSTALLED_APPS and run "
        "'python manage.py migrate campaignflow'",
    },
    "testing.no_survey_in_rate": {
        "zh_CN": "surveys: satisfied_rate：不超过 {ballots:,} 张票的测评都不可能使满意率落在这个范围内，"
        "收到的是 {value}",
        "en": "surveys: satisfied_rate: no survey of at most {ballots:,} ballots has a satisfied "
        "rate within it, got {value}",
    },
    "testing.boundary_no_flip_passes": {
        "zh_CN": "guard_boundary：{param} 从 {low} 到 {high} 都不改变判定（始终通过，代码 {code}）；"
        "请放宽 low/high 或更换事实",
        "en": "guard_boundary: {param} from {low} to {high} never flips the verdict (always "
        "passes with code {code}); widen low/high or change the facts",
    },
    "testing.boundary_no_flip_fails": {
        "zh_CN": "guard_boundary：{param} 从 {low} 到 {high} 都不改变判定（始终不通过，代码 {code}）；"
        "请放宽 low/high 或更换事实",
        "en": "guard_boundary: {param} from {low} to {high} never flips the verdict (always "
        "fails with code {code}); widen low/high or change the facts",
    },
    "scenario.problems": {
        "zh_CN": "场景 {source}：{count} 处问题{problem_lines}",
        "en": "scenario {source}: {count} problems{problem_lines}",
    },
    "scenario.problems_one": {
        "zh_CN": "场景 {source}：1 处问题{problem_lines}",
        "en": "scenario {source}: 1 problem{problem_lines}",
    },
    "store.driver_error": {
        "zh_CN": "存储（{dialect}）出错：{detail}",
        "en": "store ({dialect}): {detail}",
    },
    # Why an audit chain does not verify (AuditVerification.reason_code).
    "audit.seq_gap": {
        "zh_CN": "序号缺失或顺序错乱：应为第 {expected} 条，实为第 {found} 条",
        "en": "sequence gap or reorder: expected seq {expected}, found {found}",
    },
    "audit.prev_hash_mismatch": {
        "zh_CN": "prev_hash 与前一条记录的哈希不符",
        "en": "prev_hash does not match the hash of the record before it",
    },
    "audit.hash_mismatch": {
        "zh_CN": "内容与其哈希不符（记录被改动过）",
        "en": "content does not match its hash (the record was altered)",
    },
    "audit.anchor_mismatch": {
        "zh_CN": "清除锚点与第 {seq} 条处导出的检查点不符",
        "en": "the purge anchor does not match the exported checkpoint at seq {seq}",
    },
    "audit.truncated": {
        "zh_CN": "检查点第 {seq} 条缺失：审计记录在第 {last} 条之后被截断",
        "en": "checkpoint seq {seq} is missing: the trail was truncated after seq {last}",
    },
    "audit.checkpoint_mismatch": {
        "zh_CN": "第 {seq} 条记录与导出的检查点不符（历史被改写）",
        "en": "record {seq} does not match the exported checkpoint (rewritten history)",
    },
    "validation.one_of": {
        "zh_CN": "{field}：只能是 {choices} 之一，收到的是 {value}",
        "en": "{field}: must be one of {choices}, got {value}",
    },
    "validation.whole_number": {
        "zh_CN": "{field}：必须是 {minimum} 到 {maximum} 之间的整数，收到的是 {value}",
        "en": "{field}: must be a whole number from {minimum} to {maximum}, got {value}",
    },
    "audit.purge_not_exported": {
        "zh_CN": "older_than：第 {seq} 条记录（{on}）尚未导出（已导出到 {exported}）；请先导出",
        "en": "older_than: record {seq} (dated {on}) has not been exported (exported through {exported}); export first",
    },
    "audit.purge_too_recent": {
        "zh_CN": "older_than：记录须保留 {retention_days} 天；只能清除 {limit} 之前的记录，收到的是 {older_than}",
        "en": "older_than: records must be kept {retention_days} days; purge only before {limit}, got {older_than}",
    },
    "audit.retention_too_short": {
        "zh_CN": "retention_days：不能少于 {minimum} 天（六个月），收到的是 {retention_days}",
        "en": "retention_days: must be >= {minimum} (six months), got {retention_days}",
    },
    "campaign.depth_needs_under": {
        "zh_CN": "depth：只能与 under=<组织 id> 一起使用",
        "en": "depth: only with under=<organisation id>",
    },
    "campaign.no_approval_asked": {
        "zh_CN": "单位 {unit}：环节 {stage} 不需要审批",
        "en": "unit {unit}: stage {stage} asks no approval",
    },
    "campaign.no_such_batch": {
        "zh_CN": "start_batch：流程中没有第 {batch} 批",
        "en": "start_batch: the workflow has no batch {batch}",
    },
    "campaign.no_such_transition": {
        "zh_CN": "单位 {unit}：环节 {stage} 没有名为 {trigger} 的流转（可用的：{have}）",
        "en": "unit {unit}: no {trigger} transition leaves stage {stage} (triggers there: {have})",
    },
    "campaign.payload_unrecordable": {
        "zh_CN": "{command}：命令的数据无法记录：{exc}",
        "en": "{command}: the command's data cannot be recorded: {exc}",
    },
    "campaign.request_id_reused": {
        "zh_CN": "request_id {request_id}：已被另一条命令（{command}）使用；每条命令请用新的 id",
        "en": "request_id {request_id}: already used for another command ({command}); use a new id per command",
    },
    "campaign.request_id_reused_unit": {
        "zh_CN": "request_id {request_id}：已被另一条命令使用（对 {unit} 的 {command}）；每条命令请用新的 id",
        "en": "request_id {request_id}: already used for another command ({command} on {unit}); use a new id per command",
    },
    "campaign.role_not_approver": {
        "zh_CN": "单位 {unit}：角色必须是环节 {stage} 要求审批的角色之一（{roles}），收到的是 {role}",
        "en": "unit {unit}: role must be one that stage {stage} asks approval of ({roles}), got {role}",
    },
    "campaign.several_approver_roles": {
        "zh_CN": "approve：操作人 {actor} 拥有多个审批角色（{roles}）；请传入 role=",
        "en": "approve: actor {actor} holds several approving roles ({roles}); pass role=",
    },
    "campaign.to_batch_not_later": {
        "zh_CN": "单位 {unit}：to_batch 必须晚于它所在的批次（{batch}），收到的是 {target}",
        "en": "unit {unit}: to_batch must be later than its batch ({batch}), got {target}",
    },
    "campaign.to_batch_unknown": {
        "zh_CN": "单位 {unit}：to_batch 必须是流程中的批次（{batches}），收到的是 {target}",
        "en": "unit {unit}: to_batch must be a batch of the workflow ({batches}), got {target}",
    },
    "campaign.unit_finished": {
        "zh_CN": "单位 {unit}：已经结束（环节 {stage}）；不能再对它执行 {doing}",
        "en": "unit {unit}: has finished (stage {stage}); cannot {doing} it",
    },
    "campaign.unit_not_started": {
        "zh_CN": "单位 {unit}：尚未开始（环节 {stage}）；在它的批次开始之前不能对它执行 {doing}",
        "en": "unit {unit}: has not started (stage {stage}); cannot {doing} it before its batch starts",
    },
    "campaign.workflow_not_adopted": {
        "zh_CN": "workflow：{given} 不是本次活动采用过的流程版本（{known}）；请用其中之一打开，或用 Campaign.adopt 采用新版本",
        "en": "workflow: {given} is not a version this campaign adopted ({known}); open it with one of those, or adopt the new one with Campaign.adopt",
    },
    # The CLI's status lines: "ok:", "invalid:" and "TAMPERED:" stay as they are in every
    # language (scripts look for them); what follows is in --lang.
    "cli.valid_workflow": {
        "zh_CN": "ok: {file} 中的工作流 {name}@{version}：{stages} 个阶段，{transitions} 个流转，{batches} 个批次",
        "en": "ok: workflow {name}@{version} in {file}: {stages} stages, {transitions} transitions, {batches} batches",
    },
    "cli.valid_scenario": {
        "zh_CN": "ok: {file} 中的情景 {name}：{units} 个单位，{batches} 个批次，工作流 {workflow}",
        "en": "ok: scenario {name} in {file}: {units} units, {batches} batches, workflow {workflow}",
    },
    "cli.invalid": {"zh_CN": "invalid: {message}", "en": "invalid: {message}"},
    "cli.audit_ok": {
        "zh_CN": "ok: 活动 {campaign}：已核验 {checked} 条审计记录",
        "en": "ok: campaign {campaign}: {checked} audit records verified",
    },
    "cli.audit_head": {
        "zh_CN": "，链头序号 {seq}，哈希 {hash}",
        "en": ", head seq {seq} hash {hash}",
    },
    "cli.audit_tampered_record": {
        "zh_CN": "TAMPERED: 活动 {campaign}：第 {seq} 条记录：{reason}",
        "en": "TAMPERED: campaign {campaign}: record {seq}: {reason}",
    },
    "cli.audit_tampered_tail": {
        "zh_CN": "TAMPERED: 活动 {campaign}：链尾：{reason}",
        "en": "TAMPERED: campaign {campaign}: the chain's tail: {reason}",
    },
    "cli.first_broken_record": {"zh_CN": "第一条被破坏的记录：", "en": "first broken record:"},
    "cli.cannot_read_db": {
        "zh_CN": "db：无法读取 {url} 中的活动：{exc}",
        "en": "db: cannot read the campaigns in {url}: {exc}",
    },
    "cli.db_empty": {
        "zh_CN": "db：{url} 中还没有任何活动",
        "en": "db: {url} holds no campaign yet",
    },
    "cli.needs_psycopg": {
        "zh_CN": "db：使用 PostgreSQL 需要 psycopg：pip install 'campaignflow[pg]'",
        "en": "db: PostgreSQL needs psycopg: pip install 'campaignflow[pg]'",
    },
    "cli.neither_workflow_nor_scenario": {
        "zh_CN": "file：既不是流程（没有 'stages'），也不是场景（没有 'workflow'、'roster' 或 'behaviour'）",
        "en": "file: neither a workflow (it has no 'stages') nor a scenario (no 'workflow', 'roster' or 'behaviour')",
    },
    "cli.no_db_file": {
        "zh_CN": "db：{path} 处没有数据库文件",
        "en": "db: no database file at {path}",
    },
    "cli.no_such_campaign": {
        "zh_CN": "campaign：数据库中没有活动 {wanted}（现有：{listed}）",
        "en": "campaign: the database holds no campaign {wanted} (it holds: {listed})",
    },
    "cli.no_workflow_record": {
        "zh_CN": "workflow：该活动没有记载其流程的审计记录",
        "en": "workflow: the campaign has no audit records naming its workflow",
    },
    "cli.not_a_db": {
        "zh_CN": "db：{path} 不是 campaignflow 数据库（{exc}）",
        "en": "db: {path} is not a campaignflow database ({exc})",
    },
    "cli.several_campaigns": {
        "zh_CN": "campaign：数据库中有 {count} 个活动（{campaigns}）；请用 --campaign 选择一个",
        "en": "campaign: the database holds {count} campaigns ({campaigns}); choose one with --campaign",
    },
    "cli.workflow_not_preset": {
        "zh_CN": "workflow：该活动运行的是 {refs}，不是内置预设；请用 --workflow FILE（或用 --scenario FILE 给出场景）传入",
        "en": "workflow: the campaign ran {refs}, which is not a shipped preset; pass it with --workflow FILE (or the scenario with --scenario FILE)",
    },
    "clock.backwards": {
        "zh_CN": "set：模拟时钟只能向前走，收到的 {target} 早于当前的 {now}",
        "en": "set: a simulated clock only moves forward, got {target} before {now}",
    },
    "diagram.needs_graphviz": {
        "zh_CN": "format 'dot' 需要 graphviz 包：pip install 'campaignflow[diagram]'",
        "en": "format 'dot' needs the graphviz package: pip install 'campaignflow[diagram]'",
    },
    "facts.already_registered": {
        "zh_CN": "事实类型 {name}：已为 {owner} 登记",
        "en": "fact type {name}: already registered for {owner}",
    },
    "facts.not_attrs": {
        "zh_CN": "事实类型 {name}：必须是 attrs 类（使用 @attrs.frozen），收到的是 {cls}",
        "en": "fact type {name}: must be an attrs class (use @attrs.frozen), got {cls}",
    },
    "facts.unknown_kind": {
        "zh_CN": "fact.kind：必须是已登记的事实类型（{kinds}），收到的是 {name}",
        "en": "fact.kind: must be a registered fact type ({kinds}), got {name}",
    },
    "facts.unregistered_type": {
        "zh_CN": "fact：{type} 不是已登记的事实类型；请用 @campaignflow.fact_type(name) 登记",
        "en": "fact: {type} is not a registered fact type; register it with @campaignflow.fact_type(name)",
    },
    "file.not_utf8": {
        "zh_CN": "{path}：不是 UTF-8 文本（第 {start} 字节处：{reason}）",
        "en": "{path}: not UTF-8 text ({reason} at byte {start})",
    },
    "file.not_valid": {
        "zh_CN": "{path}：不是有效的 {format}：{exc}",
        "en": "{path}: not valid {format}: {exc}",
    },
    "file.unsupported_type": {
        "zh_CN": "{path}：不支持的文件类型 {suffix}：请用 .toml 或 .json",
        "en": "{path}: unsupported file type {suffix}: use .toml or .json",
    },
    "guards.already_registered": {
        "zh_CN": "守卫 {name}：已经登记（{func}）；请传入 replace=True",
        "en": "guard {name}: already registered ({func}); pass replace=True",
    },
    "guards.combinator_empty": {
        "zh_CN": "{name}：至少需要一个守卫",
        "en": "{name}: needs at least one guard",
    },
    "guards.name_reserved": {
        "zh_CN": "守卫名：{name} 保留给组合子使用",
        "en": "guard name: {name} is reserved for a combinator",
    },
    "guards.needs_context": {
        "zh_CN": "守卫 {name}：第一个位置参数必须是 GuardContext",
        "en": "guard {name}: must take the GuardContext as its first positional argument",
    },
    "guards.no_signature": {
        "zh_CN": "守卫 {name}：{func} 的签名无法检查",
        "en": "guard {name}: {func} has no inspectable signature",
    },
    "guards.not_registered": {
        "zh_CN": "use：{guard} 不是已登记的守卫；请用 @campaignflow.guard(name) 装饰它",
        "en": "use: {guard} is not a registered guard; decorate it with @campaignflow.guard(name)",
    },
    "guards.unknown": {
        "zh_CN": "守卫 {name}：注册表中没有这个守卫",
        "en": "guard {name}: no such guard in the registry",
    },
    "i18n.already_registered": {
        "zh_CN": "消息 {code}：已用其他文本登记；请传入 replace=True",
        "en": "message {code}: already registered with other text; pass replace=True",
    },
    "i18n.empty_text": {
        "zh_CN": "消息 {code}：{locale} 文本不能为空",
        "en": "message {code}: {locale} text must be non-empty",
    },
    "model.batch_window_order": {
        "zh_CN": "第 {number} 批的时间窗：结束日期（{closes}）不能早于开始日期（{opens}）",
        "en": "BatchWindow {number}: closes ({closes}) must not be before opens ({opens})",
    },
    "model.milestone_done_over": {
        "zh_CN": "工作节点 {milestone}：done 不能超过 total（{total}），收到的是 {done}",
        "en": "Milestone {milestone}: done must be <= total ({total}), got {done}",
    },
    "model.milestone_done_total": {
        "zh_CN": "工作节点 {milestone}：done 和 total 要么都给，要么都不给；收到 done={done}，total={total}",
        "en": "Milestone {milestone}: give both done and total, or neither; got done={done}, total={total}",
    },
    "model.org_own_parent": {
        "zh_CN": "组织 {org}：上级必须是另一个组织，不能是它自己",
        "en": "Organisation {org}: parent must be another organisation, got itself",
    },
    "model.survey_ballots_sum": {
        "zh_CN": "Survey.ballots：必须等于各项票数之和（{total}），收到的是 {ballots}",
        "en": "Survey.ballots: must equal the sum of the counts ({total}), got {ballots}",
    },
    "model.survey_no_ballots": {
        "zh_CN": "Survey：至少要有一张有效票，收到的是 0 张",
        "en": "Survey: must have at least one valid ballot, got 0",
    },
    "report.cannot_create_folder": {
        "zh_CN": "out：无法创建文件夹 {folder}：{exc}",
        "en": "out: cannot create the folder {folder}: {exc}",
    },
    "report.cannot_write": {
        "zh_CN": "out：无法把报告写入 {folder}：{exc}",
        "en": "out: cannot write the report into {folder}: {exc}",
    },
    "simulation.bulk_combinator": {
        "zh_CN": "批量守卫名：{name} 是组合子，本身就支持批量",
        "en": "bulk guard name: {name} is a combinator, always bulk",
    },
    "simulation.bulk_not_callable": {
        "zh_CN": "批量守卫 {name}：必须是可调用对象，收到的是 {func}",
        "en": "bulk guard {name}: must be callable, got {func}",
    },
    "simulation.bulk_registered": {
        "zh_CN": "批量守卫 {name}：已有批量形式（{old}）；请传入 replace=True",
        "en": "bulk guard {name}: already has a bulk form ({old}); pass replace=True",
    },
    "simulation.bulk_too_many_milestones": {
        "zh_CN": "批量事实：不同的工作节点名最多 63 个",
        "en": "bulk facts: at most 63 distinct milestone names",
    },
    "simulation.no_bulk_form": {
        "zh_CN": "守卫 {guard}：没有用于快速模拟的批量形式",
        "en": "guard {guard}: has no bulk form for fast simulation",
    },
    "simulation.no_defer": {
        "zh_CN": "behaviour.late_start.share：流程 {workflow} 没有从 {initial} 出发的 'defer' 流转，无法把晚开始的单位移到下一批；请把比例设为 0，收到的是 {share}",
        "en": "behaviour.late_start.share: workflow {workflow} has no 'defer' transition from {initial} to move late units to the next batch; set the share to 0, got {share}",
    },
    "simulation.not_finite": {
        "zh_CN": "SimulationResult：有一个数不是有限数：{value}",
        "en": "SimulationResult: a number is not finite: {value}",
    },
    "simulation.store_not_empty": {
        "zh_CN": "store：其中已有活动 {campaign} 的单位；请模拟到一个新数据库中",
        "en": "store: already holds units of campaign {campaign}; simulate into a new database",
    },
    "simulation.unreadable": {
        "zh_CN": "SimulationResult：无法读取数据：{exc}",
        "en": "SimulationResult: cannot read the data: {exc}",
    },
    "store.autocommit": {
        "zh_CN": "store：加入的 PostgreSQL 连接不能处于自动提交模式：否则活动的写入会逐条语句提交",
        "en": "store: a joined PostgreSQL connection must not be in autocommit mode: the campaign's writes would commit one statement at a time",
    },
    "store.closed": {
        "zh_CN": "store：存储已关闭",
        "en": "store: closed",
    },
    "store.django_no_database": {
        "zh_CN": "using：settings.DATABASES 中没有 Django 数据库 {using}（已有：{known}）",
        "en": "using: no Django database {using} in settings.DATABASES (known: {known})",
    },
    "store.needs_psycopg": {
        "zh_CN": "store：PostgreSQL 存储需要 psycopg 3，但尚未安装；pip install 'campaignflow[pg]'",
        "en": "store: PostgreSQL stores need psycopg 3, which is not installed; pip install 'campaignflow[pg]'",
    },
    "store.organisation_exists": {
        "zh_CN": "组织 {org}：已经登记过",
        "en": "organisation {org}: already registered",
    },
    "store.read_only": {
        "zh_CN": "store：本会话是只读的（transaction(write=False)）",
        "en": "store: this session is read-only (transaction(write=False))",
    },
    "store.schema_too_new": {
        "zh_CN": "store：数据库的表结构版本为 {found}，比本版 campaignflow 的表结构版本 {latest} 新；请升级 campaignflow 后再打开",
        "en": "store: the database has schema version {found}, newer than this campaignflow's schema version {latest}; upgrade campaignflow to open it",
    },
    "store.sqlalchemy_closed": {
        "zh_CN": "store：SQLAlchemy 连接已关闭",
        "en": "store: the SQLAlchemy connection is closed",
    },
    "store.sqlalchemy_no_dbapi": {
        "zh_CN": "store：SQLAlchemy 连接没有底层的 DB-API 连接",
        "en": "store: the SQLAlchemy connection has no DB-API connection",
    },
    "store.sqlite_no_directory": {
        "zh_CN": "store：SQLite 路径 {file}：目录 {parent} 不存在",
        "en": "store: SQLite path {file}: directory {parent} does not exist",
    },
    "store.sqlite_synchronous": {
        "zh_CN": "store：synchronous 只能是 {choices} 之一，收到的是 {synchronous}",
        "en": "store: synchronous must be one of {choices}, got {synchronous}",
    },
    "store.transaction_ended": {
        "zh_CN": "store：本会话的事务已经结束",
        "en": "store: this session's transaction has ended",
    },
    "store.unit_exists": {
        "zh_CN": "单位 {unit}：已存在同一 id 的单位",
        "en": "unit {unit}: a unit with this id already exists",
    },
    "store.url_options": {
        "zh_CN": "store：SQLite URL 的选项只能是 {allowed} 之一，{url} 中有 {unknown}",
        "en": "store: SQLite URL options must be among {allowed}, got {unknown} in {url}",
    },
    "store.url_scheme": {
        "zh_CN": "store：协议只能是 'memory'、'sqlite'、'postgresql' 之一，{url} 中的是 {scheme}",
        "en": "store: scheme must be one of 'memory', 'sqlite', 'postgresql', got {scheme} in {url}",
    },
    "testing.boundary_order": {
        "zh_CN": "guard_boundary：low 必须小于 high，收到的是 {low}..{high}",
        "en": "guard_boundary: low must be below high, got {low}..{high}",
    },
    "testing.no_path": {
        "zh_CN": "play_outcome：没有带配方的路径能到达 {source}",
        "en": "play_outcome: no path with recipes reaches {source}",
    },
    "testing.not_a_verdict": {
        "zh_CN": "check_guard：{guard} 必须返回 Verdict，收到的是 {verdict}",
        "en": "check_guard: {guard} must return a Verdict, got {verdict}",
    },
    "testing.step_no_recipe": {
        "zh_CN": "prepare：步骤 {step} 没有配方，无法执行",
        "en": "prepare: step {step} has no recipe; it cannot be played",
    },
    "validation.iterable_of": {
        "zh_CN": "{field}：必须是由 campaignflow.{kind} 组成的可迭代对象，收到的是 {value}",
        "en": "{field}: must be an iterable of campaignflow.{kind}, got {value}",
    },
    "versions.already_current": {
        "zh_CN": "workflow：{ref} 已经是本次活动当前的流程版本",
        "en": "workflow: {ref} is already the campaign's current workflow version",
    },
    "versions.from_batch_missing": {
        "zh_CN": "from_batch：策略 'from_batch' 需要给出 from_batch=N",
        "en": "from_batch: policy 'from_batch' needs from_batch=N",
    },
    "versions.from_batch_unexpected": {
        "zh_CN": "from_batch：只能与策略 'from_batch' 一起使用，收到的是 {from_batch}，策略为 {policy}",
        "en": "from_batch: only with policy 'from_batch', got {from_batch} with {policy}",
    },
    "versions.stage_map_entry": {
        "zh_CN": "stage_map：每一项都必须把一个环节 id 映射到另一个环节 id，收到的是 {old}: {new}",
        "en": "stage_map: every entry must map a stage id to a stage id, got {old}: {new}",
    },
    "workflow.guard_unused": {
        "zh_CN": "with_params：流程 {workflow} 没有用到守卫 {guard}",
        "en": "with_params: workflow {workflow} never uses guard {guard}",
    },
}

#: One entry per code of a :class:`~campaignflow.errors.Problem` (a line of a
#: DefinitionError or of a ValidationError listing several problems); the path comes first.
PROBLEM_MESSAGES: dict[str, dict[str, str]] = {
    "guards.not_a_guard": {"zh_CN": "不是守卫", "en": "not a guard"},
    "scenario.too_many_units": {
        "zh_CN": "合计不能超过 {maximum:,} 个单位，收到的是 {value}",
        "en": "must add up to at most {maximum:,} units, got {value}",
    },
    "problem.below_min": {
        "zh_CN": "不能小于 min（{minimum}），收到的是 {value}",
        "en": "must be >= min ({minimum}), got {value}",
    },
    "scenario.scale_shares": {
        "zh_CN": "必须给出 {scale} 级量表各档的比例：{levels}，收到的是 {value}",
        "en": "must give the {scale}-level scale's shares: {levels}, got {value}",
    },
    "problem.whole_number": {
        "zh_CN": "必须是 {minimum} 到 {maximum} 之间的整数，收到的是 {value}",
        "en": "must be a whole number from {minimum} to {maximum}, got {value}",
    },
    "problem.number_range": {
        "zh_CN": "必须是 {minimum:g} 到 {maximum:g} 之间的数，收到的是 {value}",
        "en": "must be a number from {minimum:g} to {maximum:g}, got {value}",
    },
    "problem.span": {
        "zh_CN": "必须是 [low, high]，两者都是 {minimum:g} 到 {maximum:g} 之间的数，且 low <= high，收到的是 {value}",
        "en": "must be [low, high], numbers from {minimum:g} to {maximum:g}, low <= high, got {value}",
    },
    "problem.span_whole": {
        "zh_CN": "必须是 [low, high]，两者都是 {minimum:g} 到 {maximum:g} 之间的整数，且 low <= high，收到的是 {value}",
        "en": "must be [low, high], whole numbers from {minimum:g} to {maximum:g}, low <= high, got {value}",
    },
    "problem.not_before_start": {
        "zh_CN": "不能早于开始日期（{start}），收到的是 {value}",
        "en": "must not be before start ({start}), got {value}",
    },
    "problem.not_before_opens": {
        "zh_CN": "不能早于开始日期 opens（{opens}），收到的是 {value}",
        "en": "must not be before opens ({opens}), got {value}",
    },
    "problem.not_before_scenario_start": {
        "zh_CN": "不能早于场景的开始日期（{start}），收到的是 {value}",
        "en": "must not be before the scenario's start ({start}), got {value}",
    },
    "problem.too_long_after_start": {
        "zh_CN": "不能晚于开始日期（{start}）之后 {days} 天，收到的是 {value}",
        "en": "must be at most {days} days after start ({start}), got {value}",
    },
    "scenario.duplicate_batch": {
        "zh_CN": "批次重复（另见 batches[{first}]），收到的是 {value}",
        "en": "duplicate batch (also batches[{first}]), got {value}",
    },
    "scenario.kind_in_two_batches": {
        "zh_CN": "该类型已在 batches[{first}] 中（一种类型只属于一个批次），收到的是 {value}",
        "en": "kind is already in batches[{first}] (a kind belongs to one batch), got {value}",
    },
    "scenario.unreadable": {
        "zh_CN": "无法读取场景（{error}）",
        "en": "cannot read the scenario ({error})",
    },
    "scenario.no_such_stage": {
        "zh_CN": "流程 {workflow} 没有这个环节（它的环节：{stages}），收到的是 {value}",
        "en": "workflow {workflow} has no such stage (its stages: {stages}), got {value}",
    },
    "file.nested_too_deeply": {
        "zh_CN": "不是有效的 {format}：嵌套太深",
        "en": "not valid {format}: nested too deeply",
    },
    "scenario.csv_unreadable": {
        "zh_CN": "无法读取 {path}：{exc}",
        "en": "cannot read {path}: {exc}",
    },
    "scenario.csv_header": {
        "zh_CN": "第一行必须是表头 {header}，收到的是 {value}",
        "en": "the first line must be the header {header}, got {value}",
    },
    "problem.required": {"zh_CN": "缺少必填字段", "en": "required field missing"},
    "problem.unknown_keys": {"zh_CN": "未知的键：{keys}", "en": "unknown key(s): {keys}"},
    "problem.expected_type": {
        "zh_CN": "值无效（应为 {kind}，收到的是 {type} {value}）",
        "en": "invalid value (expected {kind}, got {type} {value})",
    },
    "problem.expected_date": {
        "zh_CN": "值无效（应为 ISO 日期 YYYY-MM-DD，收到的是 {value}）",
        "en": "invalid value (expected an ISO date (YYYY-MM-DD), got {value})",
    },
    "problem.expected_datetime": {
        "zh_CN": "值无效（应为 ISO 日期时间，收到的是 {value}）",
        "en": "invalid value (expected an ISO date-time, got {value})",
    },
    "problem.expected_names": {
        "zh_CN": "值无效（应为名字列表，收到的是 {value}）",
        "en": "invalid value (expected a list of names, got {value})",
    },
    "problem.expected_names_item": {
        "zh_CN": "值无效（应为名字列表，其中有 {value}）",
        "en": "invalid value (expected a list of names, got {value} in it)",
    },
    # Text from outside the catalog (Python's own exceptions): shown as it is.
    "problem.invalid_value": {"zh_CN": "值无效（{detail}）", "en": "invalid value ({detail})"},
    "problem.detail": {"zh_CN": "{detail}", "en": "{detail}"},
    "campaign.org_cycle": {
        "zh_CN": "{org} 是它自己的上级（形成了环）",
        "en": "{org} is its own ancestor (a cycle)",
    },
    "campaign.org_exists": {
        "zh_CN": "{org} 已经登记过",
        "en": "{org} is already registered",
    },
    "campaign.org_parent_unknown": {
        "zh_CN": "{org}：上级必须是已登记的组织，收到的是 {parent}",
        "en": "{org}: parent must be a registered organisation, got {parent}",
    },
    "campaign.org_twice": {
        "zh_CN": "{org} 在本次调用中出现了两次",
        "en": "{org} appears twice in this call",
    },
    "campaign.unit_batch_unknown": {
        "zh_CN": "单位 {unit}：批次必须是流程中的批次之一（{batches}），收到的是 {batch}",
        "en": "unit {unit}: batch must be one of the workflow's ({batches}), got {batch}",
    },
    "campaign.unit_exists": {
        "zh_CN": "单位 {unit} 已在本次活动中",
        "en": "unit {unit} already exists in the campaign",
    },
    "campaign.unit_twice": {
        "zh_CN": "单位 {unit} 在本次调用中出现了两次",
        "en": "unit {unit} appears twice in this call",
    },
    "definition.dead_end": {
        "zh_CN": "环节 {stage} 无路可出（没有流转离开它，它也不是终结环节）",
        "en": "stage {stage} has no way out (no transition leaves it and it is not final)",
    },
    "definition.duplicate_batch": {
        "zh_CN": "批次 {batch} 重复",
        "en": "duplicate batch {batch}",
    },
    "definition.duplicate_stage": {
        "zh_CN": "环节 id {stage} 重复（另见 $.stages[{first}]）",
        "en": "duplicate stage id {stage} (also $.stages[{first}])",
    },
    "definition.invalid_unicode": {
        "zh_CN": "所有文本都必须是有效的 Unicode（单独的代理字符无法存储）",
        "en": "every text must be valid Unicode (a lone surrogate cannot be stored)",
    },
    "definition.leaves_final": {
        "zh_CN": "{stage} 是终结环节；任何流转都不能离开终结环节",
        "en": "{stage} is final; nothing leaves a final stage",
    },
    "definition.no_final_stage": {
        "zh_CN": '没有终结环节（kind = "final"）：任何单位都无法结束',
        "en": 'no final stage (kind = "final"): no unit could ever finish',
    },
    "definition.no_stages": {
        "zh_CN": "至少要列出一个环节",
        "en": "must list at least one stage",
    },
    "definition.not_a_mapping": {
        "zh_CN": "{what} 必须是表（映射），收到的是 {type}",
        "en": "{what} must be a table/mapping, got {type}",
    },
    "definition.remedial_of_not_remedial": {
        "zh_CN": "只有补课环节才能补另一个环节",
        "en": "only a remedial stage makes up another stage",
    },
    "definition.remedial_without_target": {
        "zh_CN": "补课环节必须指明它所补的环节",
        "en": "a remedial stage must name the stage it makes up",
    },
    "definition.schema_version": {
        "zh_CN": "必须是 1 到 {latest} 之间的整数（本版本最多能读取 {latest}），收到的是 {value}",
        "en": "must be a whole number from 1 to {latest} (this release reads up to {latest}), got {value}",
    },
    "definition.source_empty": {
        "zh_CN": "至少要指明一个环节",
        "en": "must name at least one stage",
    },
    "definition.unknown_stage": {
        "zh_CN": "未知的环节 {stage}",
        "en": "unknown stage {stage}",
    },
    "definition.unreachable": {
        "zh_CN": "环节 {stage} 从 {initial} 无法到达",
        "en": "stage {stage} is unreachable from {initial}",
    },
    "file.invalid_syntax": {
        "zh_CN": "不是有效的 {format}：{exc}",
        "en": "not valid {format}: {exc}",
    },
    "file.unreadable": {
        "zh_CN": "无法读取文件：{exc}",
        "en": "cannot read the file: {exc}",
    },
    "file.unsupported_suffix": {
        "zh_CN": "不支持的文件类型 {suffix}：请用 .toml 或 .json",
        "en": "unsupported file type {suffix}: use .toml or .json",
    },
    "guards.bad_param": {
        "zh_CN": "守卫 {guard} 的参数 {param} 必须是{kind:term}，收到的是 {value}",
        "en": "guard {guard} param {param} must be {kind}, got {value}",
    },
    "guards.empty_list": {
        "zh_CN": "必须是非空的守卫列表",
        "en": "must be a non-empty list of guards",
    },
    "guards.missing_param": {
        "zh_CN": "守卫 {guard} 需要参数 {param}",
        "en": "guard {guard} needs param {param}",
    },
    "guards.must_stand_alone": {
        "zh_CN": "'{combinator}' 必须单独使用，收到的键有 {keys}",
        "en": "'{combinator}' must stand alone, got keys {keys}",
    },
    "guards.no_children": {
        "zh_CN": "至少要有一个守卫",
        "en": "must have at least one guard",
    },
    "guards.not_one_child": {
        "zh_CN": "必须恰好包含一个守卫",
        "en": "must wrap exactly one guard",
    },
    "guards.unknown_guard": {
        "zh_CN": "未知的守卫 {guard}（已知的：{known}）",
        "en": "unknown guard {guard} (known: {known})",
    },
    "guards.unknown_param": {
        "zh_CN": "守卫 {guard} 没有参数 {param}（它的参数：{takes}）",
        "en": "guard {guard} takes no param {param} (it takes: {takes})",
    },
    "problem.one_of": {
        "zh_CN": "只能是 {choices} 之一，收到的是 {value}",
        "en": "must be one of {choices}, got {value}",
    },
    "problem.rule": {
        "zh_CN": "{rule:term}，收到的是 {value}",
        "en": "{rule:term}, got {value}",
    },
    "scenario.csv_columns": {
        "zh_CN": "必须有 {columns} 列，收到的是 {count} 列",
        "en": "must have {columns} columns, got {count}",
    },
    "scenario.roster_batch": {
        "zh_CN": "批次必须是场景中的批次之一（{batches}），收到的是 {value}",
        "en": "batch must be one of the scenario's batches ({batches}), got {value}",
    },
    "scenario.roster_duplicate_id": {
        "zh_CN": "id {unit} 出现了两次",
        "en": "id {unit} appears twice",
    },
    "scenario.roster_empty": {
        "zh_CN": "没有列出任何单位",
        "en": "lists no units",
    },
    "scenario.roster_no_batch_for_kind": {
        "zh_CN": "批次为空，且没有哪个批次列出类型 {kind}",
        "en": "batch is empty and no batch lists kind {kind}",
    },
    "scenario.roster_truncated": {
        "zh_CN": "（已满 50 处问题，不再继续检查）",
        "en": "(stopped after 50 problems)",
    },
    "versions.batch_missing": {
        "zh_CN": "单位 {unit}：它的批次 {batch} 不是新版本 {ref} 中的批次",
        "en": "unit {unit}: its batch {batch} is not a batch of the new version {ref}",
    },
    "versions.mapped_stage_missing": {
        "zh_CN": "单位 {unit}：stage_map 把它的环节 {stage} 映射到 {target}，但新版本 {ref} 中没有该环节",
        "en": "unit {unit}: stage_map maps its stage {stage} to {target}, which the new version {ref} does not have",
    },
    "versions.stage_map_unknown_new": {
        "zh_CN": "{old} -> {target}：新版本 {ref} 中没有环节 {target}",
        "en": "{old} -> {target}: the new version {ref} has no stage {target}",
    },
    "versions.stage_map_unknown_old": {
        "zh_CN": "{old} 不是本次活动已知的任何流程版本中的环节",
        "en": "{old} is not a stage of any version the campaign knows",
    },
    "versions.stage_unmapped": {
        "zh_CN": "单位 {unit}：它的环节 {stage} 不在新版本 {ref} 中，stage_map 也没有映射它：该单位将没有环节",
        "en": "unit {unit}: its stage {stage} is not in the new version {ref} and stage_map does not map it: the unit would be left without a stage",
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
        "SQLite path must be a file path (use MemoryStore for a store in memory)": "SQLite 路径必须是文件路径（内存中的存储请用 MemoryStore）",
        "SQLite path must be a plain file path": "SQLite 路径必须是普通文件路径",
        "a SQLite URL is 'sqlite:///relative.db' or 'sqlite:////absolute.db'": "SQLite URL 的形式是 'sqlite:///relative.db' 或 'sqlite:////absolute.db'",
        "a simulated clock only moves forward": "模拟时钟只能向前走",
        "busy_timeout_ms must be a whole number": "busy_timeout_ms 必须是整数",
        "busy_timeout_ms must be a whole number >= 0": "busy_timeout_ms 必须是不小于 0 的整数",
        "days must be a whole number >= 0": "days 必须是不小于 0 的整数",
        "days_in_stage must be a whole number >= 0": "days_in_stage 必须是不小于 0 的整数",
        "days_since_start must be a whole number": "days_since_start 必须是整数",
        "dialect must be a Dialect": "dialect 必须是 Dialect",
        "dialect must be a Dialect or one of 'sqlite', 'postgresql'": "dialect 必须是 Dialect，或 'sqlite'、'postgresql' 之一",
        "dsn must be a PostgreSQL connection string": "dsn 必须是 PostgreSQL 连接字符串",
        "every argument must be a guard spec": "每个参数都必须是守卫规格（GuardSpec）",
        "every role must be non-empty text": "每个角色都必须是非空文本",
        "guard must be a guard function, a registered name or a GuardSpec": "guard 必须是守卫函数、已登记的名字或 GuardSpec",
        "join needs a psycopg.Connection": "join 需要 psycopg.Connection",
        "join needs a sqlite3.Connection": "join 需要 sqlite3.Connection",
        "lock_timeout_ms must be a whole number >= 0": "lock_timeout_ms 必须是不小于 0 的整数",
        "must be True or False": "必须是 True 或 False",
        "must be a Checkpoint": "必须是 Checkpoint",
        "must be a Django database alias": "必须是 Django 数据库别名",
        "must be a Python-style identifier": "必须是 Python 风格的标识符",
        "must be a SQLite file path, 'sqlite:///...' or 'postgresql://...'": "必须是 SQLite 文件路径、'sqlite:///...' 或 'postgresql://...'",
        "must be a Scenario or a file path": "必须是 Scenario 或文件路径",
        "must be a Store (with transaction() and close()) or a URL like 'sqlite:///campaign.db'": "必须是存储（有 transaction() 和 close()）或形如 'sqlite:///campaign.db' 的 URL",
        "must be a URL like 'memory://' or 'sqlite:///campaign.db'": "必须是形如 'memory://' 或 'sqlite:///campaign.db' 的 URL",
        "must be a URL string": "必须是 URL 字符串",
        "must be a Workflow": "必须是 Workflow",
        "must be a campaignflow Dialect": "必须是 campaignflow 的 Dialect",
        "must be a campaignflow.Actor": "必须是 campaignflow.Actor",
        "must be a date or an aware datetime": "必须是日期或带时区的时间",
        "must be a mapping of old stage id to new": "必须是从旧环节 id 到新环节 id 的映射",
        "must be a mapping with a 'kind'": "必须是含 'kind' 的映射",
        "must be a registered organisation or the parent of a unit": "必须是已登记的组织或某个单位的上级",
        "must be a sequence of Checkpoint": "必须是 Checkpoint 序列",
        "must be a set of role ids": "必须是角色 id 的集合",
        "must be a trigger name": "必须是流转触发名",
        "must be a whole number >= 0": "必须是不小于 0 的整数",
        "must be a whole number from 0 to 2**63 - 1": "必须是 0 到 2**63 - 1 之间的整数",
        "must be a whole number from 1 to 1024": "必须是 1 到 1024 之间的整数",
        "applies to fast mode only: exact mode runs in one process": (
            "仅适用于快速模式：精确模式在单个进程中运行"
        ),
        "must be an iterable of campaignflow.Unit": "必须是由 campaignflow.Unit 组成的可迭代对象",
        "must be an organisation id (text)": "必须是组织 id（文本）",
        "must be callable": "必须是可调用对象",
        "must be text": "必须是文本",
        "must be the name of a transition": "必须是流转的名字",
        "must be timezone-aware (a naive time's zone is a guess)": "必须带时区（不带时区的时间只能猜测时区）",
        "must have a now() method": "必须有 now() 方法",
        "must hold a table (object) at the top": "顶层必须是表（对象）",
        "must share one day": "必须是同一天",
        "needs a SQLAlchemy Connection or ORM Session": "需要 SQLAlchemy Connection 或 ORM Session",
        "now() must return an aware datetime": "now() 必须返回带时区的时间",
        "on must be a date": "on 必须是日期",
        "runs must hold campaigns, audit or transition records, paths, steps or (source, trigger, dest) tuples": "runs 只能包含活动、审计或流转记录、路径、步骤或 (source, trigger, dest) 元组",
        "scenario must be a Scenario, a file path or None": "scenario 必须是 Scenario、文件路径或 None",
        "the argument must be a guard spec": "参数必须是守卫规格（GuardSpec）",
        "must be an id of letters, digits, '_', '-' or '.' starting with a letter or '_'": "必须是由字母、数字、“_”、“-”或“.”组成并以字母或“_”开头的标识",
        "must be a Stage": "必须是 Stage",
        "must be a Transition": "必须是 Transition",
        "must be a Python-style name": "必须是 Python 风格的名字",
        "must name a role": "必须指明一个角色",
        "must be a guard spec": "必须是守卫规格（GuardSpec）",
        'a guard must be a table like {guard = "min_study_hours", hours = 40}': '守卫必须是形如 {guard = "min_study_hours", hours = 40} 的表',
        "must name a guard (or use all_of / any_of / not)": "必须指明一个守卫（或使用 all_of / any_of / not）",
        "must be a campaignflow.Unit": "必须是 campaignflow.Unit",
        "must be a campaignflow.Organisation": "必须是 campaignflow.Organisation",
        "members must be a whole number >= 1": "members 必须是不小于 1 的整数",
        "a number": "数",
        "a whole number": "整数",
        "text": "文本",
        "true or false": "true 或 false",
        "a list": "列表",
        "every batch must be a whole number >= 1": "每个批次都必须是不小于 1 的整数",
        "every entry must be non-empty text": "每一项都必须是非空文本",
        "low must not exceed high": "low 不能大于 high",
        "must be 3, 4 or None": "必须是 3、4 或 None",
        "must be True, False or None": "必须是 True、False 或 None",
        "must be a list of ids": "必须是 id 列表",
        "must be a number from 0 to 1000": "必须是 0 到 1000 之间的数",
        "must be a preset name or a file path": "必须是预设名或文件路径",
        "must be a share 0..1 or a (low, high) pair of shares": "必须是 0..1 之间的比例，或 (low, high) 比例对",
        "must be a whole number >= 1": "必须是不小于 1 的整数",
        "must be a whole number >= 2": "必须是不小于 2 的整数",
        "must be a whole number or a (min, max) pair": "必须是整数或 (min, max) 数对",
        "must list at least one batch number": "至少要列出一个批次号",
        "must list at least one id": "至少要列出一个 id",
        "must satisfy 0 <= min <= max": "必须满足 0 <= min <= max",
        "closed enterprises re-attach to community branches: count some": "关闭的企业会并入社区支部：请统计一些社区支部",
        "give either counts or csv, not both": "counts 和 csv 只能给一个，不能都给",
        "kind must be listed in the kinds of one batch": "该类型必须列在某个批次的 kinds 中",
        "must be a batch table": "必须是批次表",
        "must be a behaviour table": "必须是 behaviour 表",
        "must be a roster table": "必须是 roster 表",
        "must be a table of guard name -> params": "必须是“守卫名 -> 参数”的表",
        "must be a table of guard params": "必须是守卫参数表",
        "must be an id of letters, digits, '_', '-', '.'": "必须是由字母、数字、“_”、“-”、“.”组成的标识",
        "must be at most 0.5": "不能超过 0.5",
        "must be non-empty text (at most 200 characters)": "必须是非空文本（最多 200 个字符）",
        "must be one of the scenario's batches": "必须是场景中的批次之一",
        "must be valid text": "必须是有效的文本",
        "must give counts per kind or a csv file": "必须按类型给出 counts，或给出 csv 文件",
        "must list at least one batch": "至少要列出一个批次",
        "shares must add up to 1": "各比例之和必须为 1",
    }.items()
}
