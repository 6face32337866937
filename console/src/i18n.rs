//! The languages the console speaks, chosen per user.

use serde::{Deserialize, Serialize};

/// A language of the console.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Lang {
    /// The language's BCP 47 tag (`en`, `zh-CN`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    /// The language for a tag, if the console speaks it.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "en" => Some(Self::En),
            "zh-CN" | "zh" | "zh-Hans" => Some(Self::ZhCn),
            _ => None,
        }
    }
}

/// A proposal's status in `lang`: the API's word in English (`pending`, `executed`, ...), its translation in Chinese.
/// Every page and form shows a proposal's status through this, so the words are the same everywhere.
pub fn status_text(status: api_types::ProposalStatusName, lang: Lang) -> &'static str {
    use api_types::ProposalStatusName as S;
    match (status, lang) {
        (status, Lang::En) => status.as_str(),
        (S::Pending, Lang::ZhCn) => "待批准",
        (S::Queued, Lang::ZhCn) => "排队中",
        (S::Executed, Lang::ZhCn) => "已执行",
        (S::Failed, Lang::ZhCn) => "执行失败",
        (S::Expired, Lang::ZhCn) => "已过期",
        (S::Cancelled, Lang::ZhCn) => "已取消",
    }
}

/// Interface text that belongs to one form or page (a label, a button, a line of help), written beside where it is
/// shown in both languages. Text shared across pages is a [`Msg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    /// English.
    pub en: &'static str,
    /// Simplified Chinese.
    pub zh: &'static str,
}

/// A [`Text`] in English and Simplified Chinese.
pub const fn t(en: &'static str, zh: &'static str) -> Text {
    Text { en, zh }
}

impl Text {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::ZhCn => self.zh,
        }
    }
}

/// A piece of the console's own interface text. Identifiers, keys, hashes and names from the chain are never
/// translated; everything the console itself says is one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs, reason = "each variant is the message it names")]
pub enum Msg {
    Overview,
    Proposals,
    Members,
    Nodes,
    Accounts,
    Audit,
    Bundle,
    SignIn,
    SignOut,
    SignedInAs,
    NotSignedIn,
    ReadOnly,
    KeyLoaded,
    KeyNotLoaded,
    LoadKey,
    KeyFile,
    KeyStaysHere,
    Language,
    Height,
    LastBlock,
    Sealers,
    Observers,
    Connected,
    Stale,
    NeedsMyApproval,
    RecentEvents,
    BlockTimeline,
    NetworkPicture,
    Nothing,
    Status,
    Weight,
    Governors,
    Name,
    Kind,
    Owner,
    Key,
    Readiness,
    Address,
    Roles,
    Frozen,
    Active,
    Title,
    Proposer,
    ExpiresAt,
    Approvals,
    Digest,
    CheckOnSecondDevice,
    Sign,
    SignAndSubmit,
    Approve,
    Apply,
    Cancel,
    Revoke,
    Draft,
    Drafts,
    DryRun,
    Submit,
    Search,
    Filter,
    Next,
    Previous,
    Error,
    Done,
    Expiry,
    Grant,
    Freeze,
    Unfreeze,
    Role,
    Account,
    Member,
    Node,
    Upload,
    Export,
    Verify,
    Actor,
    Subject,
    Time,
    Threshold,
    Forecast,
    Description,
    Evidence,
    DigestMismatch,
    ProposalFile,
    SealerPreflight,
    RotateNodeKey,
    RotateNodeKeyHelp,
    AuthoriseRotation,
    KeepKey,
    KeepKeyHelp,
    Passphrase,
    PassphraseAgain,
    PassphrasesDiffer,
    KeepIt,
    KeyKept,
    KeptKey,
    Unlock,
    ForgetKey,
}

impl Msg {
    /// The message in `lang`.
    pub fn text(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en(),
            Lang::ZhCn => self.zh(),
        }
    }

    fn en(self) -> &'static str {
        match self {
            Self::Overview => "Overview",
            Self::Proposals => "Proposals",
            Self::Members => "Members",
            Self::Nodes => "Nodes",
            Self::Accounts => "Accounts and roles",
            Self::Audit => "Audit trail",
            Self::Bundle => "Bundle",
            Self::SignIn => "Sign in",
            Self::SignOut => "Sign out",
            Self::SignedInAs => "Signed in as",
            Self::NotSignedIn => "Not signed in",
            Self::ReadOnly => "read-only",
            Self::KeyLoaded => "Key loaded in this tab (a reload forgets it unless you kept it under a passphrase)",
            Self::KeyNotLoaded => "No key loaded: load your key file to sign",
            Self::LoadKey => "Load key",
            Self::KeyFile => "Key file (PKCS#8 PEM)",
            Self::KeyStaysHere => {
                "Your private key is read by this page and stays in this tab's memory. It is never sent anywhere."
            }
            Self::Language => "Language",
            Self::Height => "Height",
            Self::LastBlock => "Last block",
            Self::Sealers => "Sealers",
            Self::Observers => "Observers",
            Self::Connected => "Connected",
            Self::Stale => "No node answers: what you see may be out of date",
            Self::NeedsMyApproval => "Needs my approval",
            Self::RecentEvents => "Recent governance events",
            Self::BlockTimeline => "Block timeline",
            Self::NetworkPicture => "Network",
            Self::Nothing => "Nothing here.",
            Self::Status => "Status",
            Self::Weight => "Weight",
            Self::Governors => "Governors",
            Self::Name => "Name",
            Self::Kind => "Kind",
            Self::Owner => "Owner",
            Self::Key => "Key",
            Self::Readiness => "Readiness",
            Self::Address => "Address",
            Self::Roles => "Roles",
            Self::Frozen => "Frozen",
            Self::Active => "Active",
            Self::Title => "Title",
            Self::Proposer => "Proposer",
            Self::ExpiresAt => "Expires at height",
            Self::Approvals => "Approvals",
            Self::Digest => "Digest (computed in this browser)",
            Self::CheckOnSecondDevice => "Check this digest on a second machine",
            Self::Sign => "Sign",
            Self::SignAndSubmit => "Sign and submit",
            Self::Approve => "Approve",
            Self::Apply => "Apply",
            Self::Cancel => "Cancel",
            Self::Revoke => "Revoke",
            Self::Draft => "Draft",
            Self::Drafts => "Drafts",
            Self::DryRun => "Dry run",
            Self::Submit => "Submit",
            Self::Search => "Search",
            Self::Filter => "Filter",
            Self::Next => "Next",
            Self::Previous => "Previous",
            Self::Error => "Error",
            Self::Done => "Done",
            Self::Expiry => "Expires at height",
            Self::Grant => "Grant",
            Self::Freeze => "Freeze",
            Self::Unfreeze => "Unfreeze",
            Self::Role => "Role",
            Self::Account => "Account",
            Self::Member => "Member",
            Self::Node => "Node",
            Self::Upload => "Upload",
            Self::Export => "Export",
            Self::Verify => "Verify",
            Self::Actor => "Actor",
            Self::Subject => "Subject",
            Self::Time => "Time",
            Self::Threshold => "Threshold",
            Self::Forecast => "Forecast",
            Self::Description => "Description",
            Self::Evidence => "Equivocation evidence",
            Self::DigestMismatch => "The digest computed here differs from the id the server gave: do not sign.",
            Self::ProposalFile => "The proposal file for the second machine:",
            Self::SealerPreflight => "Sealer set pre-flight",
            Self::RotateNodeKey => "Rotate a node's key",
            Self::RotateNodeKeyHelp => {
                "On the node, run `synod key rotate --home DIR`, then upload the rotation-request.json it wrote. The request is checked here; authorising relays it and signs your approval."
            }
            Self::AuthoriseRotation => "Authorise rotation",
            Self::KeepKey => "Keep this key in this browser, encrypted under a passphrase (optional)",
            Self::KeepKeyHelp => {
                "Only the encrypted form is stored, in this browser; the passphrase and the key never leave it. Without this, the key is gone when the tab closes or reloads."
            }
            Self::Passphrase => "Passphrase",
            Self::PassphraseAgain => "Passphrase again",
            Self::PassphrasesDiffer => "The two passphrases differ",
            Self::KeepIt => "Keep it",
            Self::KeyKept => "Kept: encrypted in this browser",
            Self::KeptKey => "A key is kept in this browser:",
            Self::Unlock => "Unlock",
            Self::ForgetKey => "Forget the kept key",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Self::Overview => "概览",
            Self::Proposals => "提案",
            Self::Members => "成员机构",
            Self::Nodes => "节点",
            Self::Accounts => "账户与角色",
            Self::Audit => "审计记录",
            Self::Bundle => "前端包",
            Self::SignIn => "登录",
            Self::SignOut => "退出",
            Self::SignedInAs => "当前账户",
            Self::NotSignedIn => "未登录",
            Self::ReadOnly => "只读",
            Self::KeyLoaded => "私钥已载入本标签页（刷新页面后将丢失，除非已用口令保存）",
            Self::KeyNotLoaded => "未载入私钥：签名前请载入私钥文件",
            Self::LoadKey => "载入私钥",
            Self::KeyFile => "私钥文件（PKCS#8 PEM）",
            Self::KeyStaysHere => "私钥只在本页面读取，仅保存在本标签页内存中，绝不会发送到任何地方。",
            Self::Language => "语言",
            Self::Height => "区块高度",
            Self::LastBlock => "最新区块",
            Self::Sealers => "共识节点",
            Self::Observers => "观察节点",
            Self::Connected => "已连接",
            Self::Stale => "没有节点响应：显示内容可能已过时",
            Self::NeedsMyApproval => "待我审批",
            Self::RecentEvents => "近期治理事件",
            Self::BlockTimeline => "出块时间线",
            Self::NetworkPicture => "网络",
            Self::Nothing => "暂无内容。",
            Self::Status => "状态",
            Self::Weight => "权重",
            Self::Governors => "治理账户",
            Self::Name => "名称",
            Self::Kind => "类型",
            Self::Owner => "所属成员",
            Self::Key => "公钥",
            Self::Readiness => "就绪证明",
            Self::Address => "地址",
            Self::Roles => "角色",
            Self::Frozen => "已冻结",
            Self::Active => "正常",
            Self::Title => "标题",
            Self::Proposer => "提案人",
            Self::ExpiresAt => "过期高度",
            Self::Approvals => "审批",
            Self::Digest => "摘要（由本浏览器计算）",
            Self::CheckOnSecondDevice => "在另一台机器上核对此摘要",
            Self::Sign => "签名",
            Self::SignAndSubmit => "签名并提交",
            Self::Approve => "批准",
            Self::Apply => "执行",
            Self::Cancel => "取消",
            Self::Revoke => "撤回",
            Self::Draft => "草案",
            Self::Drafts => "草案",
            Self::DryRun => "试运行",
            Self::Submit => "提交",
            Self::Search => "搜索",
            Self::Filter => "筛选",
            Self::Next => "下一页",
            Self::Previous => "上一页",
            Self::Error => "错误",
            Self::Done => "完成",
            Self::Expiry => "到期高度",
            Self::Grant => "授予",
            Self::Freeze => "冻结",
            Self::Unfreeze => "解冻",
            Self::Role => "角色",
            Self::Account => "账户",
            Self::Member => "成员机构",
            Self::Node => "节点",
            Self::Upload => "上传",
            Self::Export => "导出",
            Self::Verify => "校验",
            Self::Actor => "操作者",
            Self::Subject => "对象",
            Self::Time => "时间",
            Self::Threshold => "门槛",
            Self::Forecast => "预测",
            Self::Description => "说明",
            Self::Evidence => "双签证据",
            Self::DigestMismatch => "本地计算的摘要与服务器给出的编号不一致：请勿签名。",
            Self::ProposalFile => "供另一台机器核对的提案文件：",
            Self::SealerPreflight => "出块节点集合预检",
            Self::RotateNodeKey => "节点密钥轮换",
            Self::RotateNodeKeyHelp => {
                "在节点上运行 `synod key rotate --home DIR`，然后上传它生成的 rotation-request.json。请求会先在本页核验；授权后本页转发该请求并签署您的批准。"
            }
            Self::AuthoriseRotation => "授权轮换",
            Self::KeepKey => "在本浏览器中保存此私钥，并用口令加密（可选）",
            Self::KeepKeyHelp => {
                "仅加密后的形式保存在本浏览器中；口令和私钥都不会离开本浏览器。若不保存，关闭或刷新标签页后私钥即被清除。"
            }
            Self::Passphrase => "口令",
            Self::PassphraseAgain => "再次输入口令",
            Self::PassphrasesDiffer => "两次输入的口令不一致",
            Self::KeepIt => "保存",
            Self::KeyKept => "已保存：加密存放在本浏览器中",
            Self::KeptKey => "本浏览器中保存了一把私钥：",
            Self::Unlock => "解锁",
            Self::ForgetKey => "删除保存的私钥",
        }
    }
}
