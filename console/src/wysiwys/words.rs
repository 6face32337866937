//! Every sentence the review and the signer show, in each language the console speaks, side by side.
//!
//! A text is a template: `{0}`, `{1}`, ... stand for its arguments (ids, keys, hashes and numbers, which are never
//! translated). Both languages of one text take the same arguments; a unit test checks it.

use core::fmt::{self, Display, Write as _};

use crate::i18n::Lang;

macro_rules! words {
    ($($(#[$doc:meta])* $key:ident => $en:literal, $zh:literal;)*) => {
        /// A text of the console's review and signer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum T {
            $($(#[$doc])* #[doc = concat!("`", $en, "`")] $key,)*
        }

        impl T {
            /// Every text, for tests.
            pub const ALL: &'static [T] = &[$(T::$key,)*];

            /// The template in `lang`.
            pub fn template(self, lang: Lang) -> &'static str {
                match lang {
                    Lang::En => match self { $(T::$key => $en,)* },
                    Lang::ZhCn => match self { $(T::$key => $zh,)* },
                }
            }
        }
    };
}

words! {
    // Marks and plain values.
    Yes => "yes", "是";
    No => "no", "否";
    NoneValue => "none", "无";
    Absent => "does not exist", "不存在";
    Removed => "removed", "已移除";
    StatusActive => "active", "活跃";
    StatusSuspended => "suspended", "已暂停";
    StatusExpelled => "expelled", "已开除";
    Observer => "observer", "观察节点";
    SealerWeight => "sealer, weight {0}", "出块节点，权重 {0}";
    Frozen => "frozen", "已冻结";
    NotFrozen => "not frozen", "未冻结";
    UntilHeight => "until height {0}", "至高度 {0}";
    AGrant => "a grant", "一项授权";
    ASealer => "a sealer", "出块节点";
    NoGrant => "no grant", "无授权";
    NoKey => "no key", "无密钥";
    PrincipalAccount => "account {0}", "账户 {0}";
    PrincipalNode => "node {0}", "节点 {0}";
    NewMemberValue => "active, weight {0}", "活跃，权重 {0}";
    NewAccountValue => "of member {0}, key {1}", "属于成员 {0}，密钥 {1}";
    NewNodeValue => "observer of {0}, key {1}, address {2}", "{0} 的观察节点，密钥 {1}，地址 {2}";
    GovernorWithKey => "{0} (key {1})", "{0}（密钥 {1}）";
    ScopeAlliance => "for accounts of any member", "适用于任何成员的账户";
    ScopeMember => "for accounts of {0} only", "仅适用于 {0} 的账户";
    Delegable => "compliance staff may grant it", "合规人员可授予";
    NotDelegable => "only the committee grants it", "仅由委员会授予";
    RoleDefinitionValue => "{0}; {1}; grants of at most {2} blocks", "{0}；{1}；单次授权最长 {2} 个区块";
    AccountsFrozenValue => "{0} accounts frozen", "{0} 个账户被冻结";
    AccountsValue => "{0} accounts", "{0} 个账户";
    KeyWithProof => "{0} (proof valid until height {1})", "{0}（证明有效至高度 {1}）";
    ProposalStatusValue => "“{0}”, {1}", "“{0}”，{1}";
    Cancelled => "cancelled", "已取消";
    Pending => "pending", "待批准";
    Queued => "queued until height {0}", "排队至高度 {0}";
    Executed => "executed at height {0}", "已于高度 {0} 执行";
    Failed => "failed at height {0}", "已于高度 {0} 失败";
    CancelledAt => "cancelled at height {0}", "已于高度 {0} 取消";

    // What a change row is about.
    WhatMember => "member {0}", "成员 {0}";
    WhatVotingWeight => "voting weight of {0}", "{0} 的投票权重";
    WhatStanding => "standing of {0}", "{0} 的状态";
    WhatGovernors => "governors of {0}", "{0} 的治理账户";
    WhatActiveWeight => "total active voting weight", "活跃成员投票权重合计";
    WhatAccount => "account {0}", "账户 {0}";
    WhatAccountsOf => "accounts of {0}", "{0} 的账户";
    WhatAccountKey => "key of account {0}", "账户 {0} 的密钥";
    WhatAccountFrozen => "account {0}", "账户 {0}";
    WhatRole => "role {0}", "角色 {0}";
    WhatGrant => "{1} held by {0}", "{0} 持有的角色 {1}";
    WhatNode => "node {0}", "节点 {0}";
    WhatNodesOf => "nodes of {0}", "{0} 的节点";
    WhatNodeKey => "key of node {0}", "节点 {0} 的密钥";
    WhatNodeAddress => "address of node {0}", "节点 {0} 的地址";
    WhatNodeWeight => "consensus weight of node {0}", "节点 {0} 的共识权重";
    WhatRule => "rule for {0}", "{0} 的规则";
    WhatParam => "parameter {0}", "参数 {0}";
    WhatProposal => "proposal {0}", "提案 {0}";
    WhatSealers => "sealers (weight)", "出块节点（权重）";
    WhatSealerTotal => "total sealer weight", "出块权重合计";
    WhatFaultTolerance => "faulty sealer weight tolerated", "可容忍的故障出块权重";

    // One headline per action.
    AdmitMember => "Admit member {0} “{1}” with voting weight {2}", "接纳成员 {0}“{1}”，投票权重 {2}";
    SetMemberWeight => "Change the voting weight of member {0} from {1} to {2}", "将成员 {0} 的投票权重从 {1} 改为 {2}";
    SuspendMember => "Suspend member {0}: its approvals stop counting", "暂停成员 {0}：其批准不再计入";
    ReinstateMember => "Reinstate member {0}", "恢复成员 {0}";
    ExpelMember => "Expel member {0}: revoke its governors and roles, freeze its accounts, remove its nodes",
        "开除成员 {0}：撤销其治理账户和角色，冻结其账户，移除其节点";
    ReplaceGovernors => "Replace the governors of member {0}", "更换成员 {0} 的治理账户";
    CreateAccount => "Create account {0} for member {1}", "为成员 {1} 创建账户 {0}";
    FreezeAccount => "Freeze account {0}", "冻结账户 {0}";
    UnfreezeAccount => "Unfreeze account {0}", "解冻账户 {0}";
    ReplaceAccountKey => "Replace the key of account {0} by committee decision", "经委员会决定更换账户 {0} 的密钥";
    DefineRole => "Define role {0}", "定义角色 {0}";
    GrantRole => "Grant role {0} to account {1} until height {2}", "授予账户 {1} 角色 {0}，有效至高度 {2}";
    RevokeRole => "Revoke role {0} from account {1}", "撤销账户 {1} 的角色 {0}";
    AdmitNode => "Admit node {0} of member {1} as an observer", "接纳成员 {1} 的节点 {0} 为观察节点";
    PromoteNode => "Promote node {0} to sealer with weight {1}", "将节点 {0} 提升为出块节点，权重 {1}";
    DemoteNode => "Demote sealer {0} to observer", "将出块节点 {0} 降为观察节点";
    SetNodeWeight => "Change the consensus weight of node {0} from {1} to {2}", "将节点 {0} 的共识权重从 {1} 改为 {2}";
    RemoveNode => "Remove node {0}", "移除节点 {0}";
    RotateNodeKey => "Rotate the key of node {0} (routine)", "轮换节点 {0} 的密钥（例行）";
    SetNodeAddress => "Change the address of node {0} to {1}", "将节点 {0} 的地址改为 {1}";
    RevokeNodeKey => "Emergency: revoke the key of node {0} at once", "紧急：立即吊销节点 {0} 的密钥";
    ReplaceNodeKey => "Give node {0} a new key by committee decision", "经委员会决定为节点 {0} 更换密钥";
    SetPolicyRule => "Change the approval rule for {0}", "修改 {0} 的审批规则";
    SetParams => "Change the chain parameters", "修改链参数";
    CancelProposal => "Cancel proposal {0}", "取消提案 {0}";

    // Approval rules.
    RuleWeight => "at least {0}/{1} of the voting weight of all members not expelled",
        "全部未除名成员投票权重的至少 {0}/{1}";
    RuleWeightExcluding => "at least {0}/{1} of the voting weight of all members not expelled; the target member's own approval does not count",
        "全部未除名成员投票权重的至少 {0}/{1}（目标成员自身的批准不计入）";
    RuleRole => "one holder of role {0}", "一名角色 {0} 持有人";
    RuleRoleSameMember => "one holder of role {0} at the target member", "目标成员的一名角色 {0} 持有人";
    RuleTargetGovernor => "one governor of the target member", "目标成员的一名治理账户";
    RuleDelay => "{0}, then {1} blocks of delay from when it is met", "{0}，满足后再延迟 {1} 个区块";
    Needs => "{0}: {1}", "{0}：{1}";

    // Checks: compare-and-set expectations and facts the chain will check.
    Expects => "expects {0}; the chain has {1}", "预期 {0}；链上为 {1}";
    ProposalOpen => "open until height {0}; the chain is at height {1} ({2} blocks left)",
        "有效至高度 {0}；链当前高度 {1}（剩余 {2} 个区块）";
    ProposalExpired => "expired at height {0}; the chain is at height {1}", "已于高度 {0} 过期；链当前高度 {1}";
    ProposerOk => "proposer {0} is a known, unfrozen account", "提案人 {0} 为已知且未冻结的账户";
    ProposerUnknown => "proposer {0} is not an account on this chain", "提案人 {0} 不是本链账户";
    ProposerFrozen => "proposer {0} is frozen: it cannot submit", "提案人 {0} 已冻结，无法提交";
    ProposerNodeOk => "proposer node {0} is admitted and has a key", "提案节点 {0} 已接纳且有密钥";
    ProposerNodeUnknown => "proposer node {0} is not admitted or has no key", "提案节点 {0} 未接纳或无密钥";
    NoRule => "{0}: the policy has no rule, so the chain refuses this action", "{0}：策略中没有规则，链将拒绝此操作";
    MemberFree => "member id {0} is free", "成员编号 {0} 未被占用";
    MemberTaken => "member id {0} is already taken", "成员编号 {0} 已被占用";
    MemberKnown => "member {0} exists ({1})", "成员 {0} 存在（{1}）";
    MemberUnknown => "member {0} does not exist", "成员 {0} 不存在";
    MemberIsExpelled => "member {0} is expelled: the chain refuses this", "成员 {0} 已被开除，链将拒绝";
    MemberAdmittedHere => "member {0} is admitted by action {1} of this proposal", "成员 {0} 由本提案第 {1} 项操作接纳";
    LastActiveMember => "no member would be active afterwards: the chain refuses this", "此后将没有活跃成员，链将拒绝";
    AccountFree => "account id {0} is free", "账户编号 {0} 未被占用";
    AccountTaken => "account id {0} is already taken", "账户编号 {0} 已被占用";
    AccountKnown => "account {0} exists (member {1})", "账户 {0} 存在（成员 {1}）";
    AccountUnknown => "account {0} does not exist", "账户 {0} 不存在";
    AccountCreatedHere => "account {0} is created by action {1} of this proposal", "账户 {0} 由本提案第 {1} 项操作创建";
    AccountOfMember => "{0} is an unfrozen account of {1}", "{0} 是 {1} 的未冻结账户";
    AccountNotOfMember => "{0} is not an unfrozen account of {1}: the chain refuses it", "{0} 不是 {1} 的未冻结账户，链将拒绝";
    Privileged => "{0} is a governor or holds compliance or operator: the committee's rule applies", "{0} 是治理账户或持有合规或运维角色：适用委员会规则";
    KeyFresh => "key {0} has never been registered", "密钥 {0} 从未登记过";
    KeyUsedHere => "key {0} is already registered by an earlier action of this proposal", "密钥 {0} 已由本提案前面的操作登记";
    KeyUsed => "key {0} is already registered to {1}: a key is never registered twice", "密钥 {0} 已登记给 {1}：同一密钥不能登记两次";
    WeightInRange => "weight {0} is within 1 to {1}", "权重 {0} 在 1 到 {1} 之间";
    WeightOutOfRange => "weight {0} is outside 1 to {1}: the chain refuses it", "权重 {0} 不在 1 到 {1} 之间，链将拒绝";
    GovernorsGiven => "{0} governors", "{0} 个治理账户";
    NoGovernors => "no governor: the chain refuses a member without one", "没有治理账户，链将拒绝";
    RoleFree => "role {0} is not yet defined", "角色 {0} 尚未定义";
    RoleTaken => "role {0} is already defined", "角色 {0} 已定义";
    RoleKnown => "role {0} is defined", "角色 {0} 已定义";
    RoleUnknown => "role {0} is not defined", "角色 {0} 未定义";
    RoleDefinedHere => "role {0} is defined by action {1} of this proposal", "角色 {0} 由本提案第 {1} 项操作定义";
    RoleIsDelegable => "{0} is delegable: one compliance holder may approve it", "{0} 可委托：一名合规人员即可批准";
    RoleNotDelegable => "{0} is not delegable: the committee decides", "{0} 不可委托：由委员会决定";
    GrantLength => "the grant runs {0} blocks from now; {1} allows at most {2}", "授权自现在起持续 {0} 个区块；{1} 最多允许 {2} 个";
    GrantInPast => "the grant would end at height {0}, before the next block {1}", "授权将于高度 {0} 结束，早于下一区块 {1}";
    GrantOutOfScope => "{0} is for accounts of {1} only; {2} belongs to {3}", "{0} 仅适用于 {1} 的账户；{2} 属于 {3}";
    NoSelfApproval => "{0}'s own approval does not count for this", "{0} 本人的批准对此不计入";
    NodeFree => "node id {0} is free", "节点编号 {0} 未被占用";
    NodeTaken => "node id {0} is already taken", "节点编号 {0} 已被占用";
    NodeKnown => "node {0} exists ({1})", "节点 {0} 存在（{1}）";
    NodeUnknown => "node {0} does not exist", "节点 {0} 不存在";
    NodeAdmittedHere => "node {0} is admitted by action {1} of this proposal", "节点 {0} 由本提案第 {1} 项操作接纳";
    OwnerActive => "its owner {0} is active", "其所属成员 {0} 为活跃状态";
    OwnerNotActive => "its owner {0} is {1}: its nodes cannot be promoted", "其所属成员 {0} 为{1}状态，其节点不能提升";
    Ready => "{0} attested readiness at height {1}, within the last {2} blocks", "{0} 已于高度 {1} 声明就绪（在最近 {2} 个区块内）";
    NotReadyStale => "{0} attested readiness at height {1}, longer ago than {2} blocks: the chain refuses the promotion",
        "{0} 于高度 {1} 声明就绪，已超过 {2} 个区块，链将拒绝提升";
    NotReadyNever => "{0} has not attested readiness: the chain refuses the promotion", "{0} 尚未声明就绪，链将拒绝提升";
    NodeHasNoKey => "{0} has no key (it was revoked): it cannot be promoted", "{0} 没有密钥（已被吊销），不能提升";
    OverrideFlag => "overrides the fault-tolerance budget: needs the stricter sealer_override rule as well",
        "越过容错预算：还需要更严格的 sealer_override 规则";
    ProposedByNode => "proposed by node {0} itself, as a routine rotation must be", "由节点 {0} 自己提出，符合例行轮换要求";
    NotProposedByNode => "a routine rotation must be proposed by node {0} itself, not by {1}: the chain refuses it",
        "例行轮换必须由节点 {0} 自己提出，而非 {1}，链将拒绝";
    ProofSubject => "the key proof names {0}", "密钥证明指向 {0}";
    ProofWrongSubject => "the key proof is for {0}, not {1}: the chain refuses it", "密钥证明针对 {0} 而非 {1}，链将拒绝";
    ProofSigned => "the new key's signature over the proof verifies for this chain", "新密钥对证明的签名在本链上验证通过";
    ProofBadSignature => "the new key's signature over the proof does not verify for this chain", "新密钥对证明的签名在本链上验证失败";
    ProofValid => "the proof is valid until height {0}; the chain is at height {1}", "证明有效至高度 {0}；链当前高度 {1}";
    ProofExpired => "the proof expired at height {0}; the chain is at height {1}", "证明已于高度 {0} 过期；链当前高度 {1}";
    ReplacedKeyRevoked => "the replaced key is revoked: nothing it signed counts any more", "被替换的密钥将被吊销：其签署的一切不再有效";
    NodeCutOff => "{0} cannot connect or vote until the committee gives it a new key", "在委员会为其更换密钥之前，{0} 无法连接或投票";
    RuleLooser => "the new rule asks less than the one in force", "新规则比现行规则宽松";
    RuleNamesAuditor => "the auditor role cannot approve: the chain refuses this rule", "审计角色不能批准，链将拒绝此规则";
    ParamsInForce => "the parameters in force", "现行参数";
    ParamsAsExpected => "expects the parameters in force; the chain has them unchanged", "预期现行参数；链上参数未变";
    ParamsValid => "the new parameters are within their ranges", "新参数均在允许范围内";
    ParamsInvalid => "the new parameters are refused: {0}", "新参数将被拒绝：{0}";
    CancelTarget => "proposal {0} {1}", "提案 {0}：{1}";
    CancelTargetClosed => "proposal {0} is {1}: only a pending proposal can be cancelled", "提案 {0} 为{1}，只能取消待批准的提案";
    CancelTargetUnknown => "this console does not know proposal {0}: check it before signing", "本控制台不知道提案 {0}：签署前请核实";

    // The sealer set before and after a proposal.
    Tolerates => "after this change the chain tolerates {0} faulty sealer weight (now {1})",
        "此变更后，链可容忍的故障出块权重为 {0}（当前为 {1}）";
    WithinBudget => "changes {0} of sealer weight at once; the set tolerates {1}", "一次变更 {0} 的出块权重；当前集合可容忍 {1}";
    OverBudget => "changes {0} of sealer weight at once, more than the {1} the set tolerates: refused unless overridden",
        "一次变更 {0} 的出块权重，超过当前可容忍的 {1}：除非越权，否则将被拒绝";
    ToleranceFalls => "fault tolerance falls from {0} to {1}: refused unless overridden", "容错能力从 {0} 降到 {1}：除非越权，否则将被拒绝";
    Overridden => "the override flag lets this change escape the fault-tolerance budget", "越权标志使此变更不受容错预算限制";
    EmptySealerSet => "the sealer set would be empty: the chain refuses this", "出块节点集合将为空，链将拒绝";
    Concentrated => "member {0} would hold {1} of {2} sealer weight (a third or more): needs the sealer_concentration rule too",
        "成员 {0} 将持有出块权重 {2} 中的 {1}（三分之一或以上）：还需要 sealer_concentration 规则";

    // Transactions.
    TxSubmit => "Submit proposal {0} “{1}” with {2} approvals", "提交提案 {0}“{1}”，附 {2} 个批准";
    TxApprove => "Add approvals by {0} to proposal {1}", "为提案 {1} 添加 {0} 的批准";
    TxRevoke => "Withdraw the sender's approval of proposal {0}", "撤回发送者对提案 {0} 的批准";
    TxCancel => "Cancel proposal {0}", "取消提案 {0}";
    TxExecute => "Execute proposal {0}", "执行提案 {0}";
    TxRotate => "Rotate the sender's key from {0} to {1}", "将发送者的密钥从 {0} 轮换为 {1}";
    TxCompromised => "Mark key {0} of account {1} compromised", "将账户 {1} 的密钥 {0} 标记为已泄露";
    TxReplacement => "replacement key: {0}", "替换密钥：{0}";
    TxNoReplacement => "no replacement: the account has no key until the committee gives it one", "无替换密钥：在委员会为其更换前该账户没有密钥";
    TxReplacementNotHolder => "only {0} itself gives a replacement key, not {1}: the chain refuses it", "只有 {0} 本身可提供替换密钥，{1} 不可：链将拒绝";
    TxAttest => "Node attests it is synced to height {0}", "节点声明已同步到高度 {0}";
    TxAnchor => "Anchor the sender console's audit trail: row {0} has hash {1}", "锚定发送者控制台的审计记录：第 {0} 行的哈希为 {1}";
    TxSender => "sender: {0}", "发送者：{0}";
    TxValidUntil => "valid until height {0}", "有效至高度 {0}";
    TxSignedBy => "signed with key {0}", "签名密钥 {0}";
    TxHash => "transaction hash: {0}", "交易哈希：{0}";
    TxSize => "{0} bytes", "{0} 字节";
    SignatureValid => "the sender's signature verifies for this chain", "发送者签名在本链上验证通过";
    SignatureInvalid => "the sender's signature does not verify for this chain", "发送者签名在本链上验证失败";
    ApprovalValid => "{0}'s approval signs proposal {1}", "{0} 的批准签署的是提案 {1}";
    ApprovalInvalid => "{0}'s approval does not sign proposal {1}: the chain refuses the transaction",
        "{0} 的批准签署的不是提案 {1}，链将拒绝该交易";
    SenderIsProposer => "the sender is the proposer", "发送者即提案人";
    SenderNotProposer => "the sender {0} is not the proposer {1}: the chain refuses it", "发送者 {0} 不是提案人 {1}，链将拒绝";

    // Errors in input the signer gives.
    ErrEmpty => "no {0} was given", "未提供{0}";
    ErrTooLarge => "the {0} is {1} characters long, more than the {2} allowed", "{0}长度为 {1} 个字符，超过上限 {2}";
    ErrNotHex => "the {0} is not hexadecimal: {1}", "{0}不是十六进制：{1}";
    ErrMalformed => "the bytes are not a valid {0}: {1}", "这些字节不是有效的{0}：{1}";
    ErrTrailing => "{1} bytes are left over after a complete {0}", "完整的{0}之后多出 {1} 个字节";
    ErrNotCanonical => "the bytes decode as a {0} but are not its canonical form", "这些字节可解码为{0}，但不是规范编码";
    ErrNotJson => "the {0} is not in a form the console reads: {1}", "{0}的格式无法读取：{1}";
    ErrNotSubmission => "the transaction does not submit a proposal", "该交易并未提交提案";
    WhatProposalInput => "proposal", "提案";
    WhatTransactionInput => "transaction", "交易";
    WhatApprovalInput => "approval", "批准";
    ErrKeyTooLarge => "the key file is {0} bytes, more than the {1} a key file may have", "密钥文件为 {0} 字节，超过上限 {1}";
    ErrNoPem => "no “-----BEGIN PRIVATE KEY-----” block was found: load the PKCS#8 PEM file from `synod keygen` or `openssl genpkey -algorithm ed25519`",
        "未找到“-----BEGIN PRIVATE KEY-----”块：请载入 `synod keygen` 或 `openssl genpkey -algorithm ed25519` 生成的 PKCS#8 PEM 文件";
    ErrEncrypted => "the key is encrypted: decrypt it first (`openssl pkey -in KEY -out PLAIN`)", "密钥已加密：请先解密（`openssl pkey -in KEY -out PLAIN`）";
    ErrWrongLabel => "the file holds a “{0}”, not a PKCS#8 private key", "文件中是“{0}”，不是 PKCS#8 私钥";
    ErrBadKey => "not an Ed25519 PKCS#8 private key: {0}", "不是 Ed25519 PKCS#8 私钥：{0}";
    ErrTtl => "a transaction must stay valid for 1 to {0} blocks, not {1}", "交易有效期必须为 1 到 {0} 个区块，而不是 {1}";
    ErrNotProposer => "only the proposer {0} may submit this proposal, not {1}", "只有提案人 {0} 可以提交该提案，而非 {1}";
    ErrNoApprovals => "no approval to relay", "没有可转交的批准";
    ErrTooManyApprovals => "{0} approvals, more than the {1} one transaction may carry", "{0} 个批准，超过单笔交易上限 {1}";
    ErrDuplicateApprover => "two approvals by {0}", "{0} 有两个批准";
    ErrBadApproval => "{0}'s approval does not sign proposal {1}", "{0} 的批准签署的不是提案 {1}";
    ErrApprovalTooLarge => "the approval file is {0} bytes, more than the {1} allowed", "批准文件为 {0} 字节，超过上限 {1}";

    // Text a signer reads: where it sits, its non-ASCII characters, and why the chain refuses it.
    FieldTitle => "title", "标题";
    FieldDescription => "description", "描述";
    FieldMemberName => "action {0}: member name", "第 {0} 项操作：成员名称";
    FieldNodeAddress => "action {0}: node address", "第 {0} 项操作：节点地址";
    FieldExpectedAddress => "action {0}: current node address", "第 {0} 项操作：节点当前地址";
    FieldGenesisMemberName => "member {0}: name", "成员 {0}：名称";
    FieldGenesisNodeAddress => "node {0}: address", "节点 {0}：地址";
    NonAscii => "contains non-ASCII characters: {0}", "含有非 ASCII 字符：{0}";
    NonAsciiMore => "{0} and {1} more", "{0} 等另外 {1} 个";
    TextRefused => "{0}: {1}: the chain refuses this text", "{0}：{1}：链将拒绝此文本";
    UnsafeCharacter => "character {0} is {1}, {2}", "第 {0} 个字符是 {1}（{2}）";
    HazardControl => "a control character", "控制字符";
    HazardBidi => "a bidirectional control character", "双向文本控制字符";
    HazardFormat => "an invisible format character", "不可见的格式字符";
    HazardSeparator => "a line or paragraph separator", "行或段落分隔符";
    HazardSpace => "a space other than the ordinary space", "非普通空格的空白字符";
    HazardInvisible => "a default-ignorable (invisible) character", "默认可忽略（不可见）字符";
    HazardPrivateUse => "a private-use character", "私用区字符";
    HazardUnassigned => "an unassigned code point", "未分配的码位";
    MixedScripts => "word {0} “{1}” mixes scripts: {2}", "第 {0} 个词“{1}”混用了多种文字：{2}";
    AddressNoPort => "expected HOST:PORT", "应为 主机:端口";
    AddressBadPort => "the port “{0}” is not a number from 1 to 65535 (without a sign or leading zeros)",
        "端口“{0}”不是 1 到 65535 之间的数字（不带符号或前导零）";
    AddressBadHost => "the host “{0}” is not a DNS name (letters, digits and hyphens in dot-separated labels), an IPv4 address or a bracketed IPv6 address",
        "主机“{0}”不是域名（以点分隔、由字母、数字和连字符组成的标签）、IPv4 地址或带方括号的 IPv6 地址";
}

/// The text `key` in `lang` with its arguments filled in.
pub fn tr(lang: Lang, key: T, args: &[&dyn Display]) -> String {
    fill(key.template(lang), args)
}

/// Replaces `{0}`..`{9}` in `template` with `args`; a placeholder without an argument stays as written.
fn fill(template: &str, args: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(template.len().saturating_add(32));
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let (before, from_brace) = rest.split_at(start);
        out.push_str(before);
        let mut chars = from_brace.chars();
        chars.next();
        let index = chars.next().and_then(|c| c.to_digit(10));
        let closed = chars.next() == Some('}');
        match (index, closed) {
            (Some(index), true) => {
                let arg = usize::try_from(index).ok().and_then(|i| args.get(i));
                match arg {
                    Some(arg) => write_arg(&mut out, *arg),
                    None => out.push_str(from_brace.get(..3).unwrap_or_default()),
                }
                rest = from_brace.get(3..).unwrap_or_default();
            }
            _ => {
                out.push('{');
                rest = from_brace.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

fn write_arg(out: &mut String, arg: &dyn Display) {
    // Writing into a String cannot fail.
    let _ = write!(out, "{arg}");
}

/// A list in `lang`: `a, b, c` or `a、b、c`.
pub fn list<I: IntoIterator<Item = S>, S: fmt::Display>(lang: Lang, items: I) -> String {
    let separator = match lang {
        Lang::En => ", ",
        Lang::ZhCn => "、",
    };
    let parts: Vec<String> = items.into_iter().map(|s| s.to_string()).collect();
    parts.join(separator)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn placeholders(template: &str) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        for index in 0..10 {
            let mark = format!("{{{index}}}");
            if template.contains(&mark) {
                set.insert(mark);
            }
        }
        set
    }

    /// Both languages of every text take the same arguments and neither is empty.
    #[test]
    fn both_languages_take_the_same_arguments() {
        for key in T::ALL {
            let (en, zh) = (key.template(Lang::En), key.template(Lang::ZhCn));
            assert!(!en.is_empty() && !zh.is_empty(), "{key:?} has an empty text");
            assert_eq!(placeholders(en), placeholders(zh), "{key:?}: {en:?} vs {zh:?}");
        }
    }

    /// Arguments fill their placeholders in any order, and a missing argument leaves its placeholder visible.
    #[test]
    fn fill_places_arguments() {
        assert_eq!(fill("{1} then {0}", &[&"a", &2]), "2 then a");
        assert_eq!(fill("{0} and {1}", &[&"x"]), "x and {1}");
        assert_eq!(fill("braces {x} stay", &[]), "braces {x} stay");
        assert_eq!(tr(Lang::ZhCn, T::RemoveNode, &[&"n3"]), "移除节点 n3");
    }
}
