"""Text to tokens for retrieval and classification: jieba for Chinese, words for Latin script."""

from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path

import jieba

# Domain words jieba should keep whole (its general dictionary splits most of them).
DOMAIN_WORDS = (
    "七天无理由", "无理由", "仅退款", "退货退款", "换货", "保修", "维修", "运费险", "上门取件", "极速退款",
    "平台介入", "运输破损", "发错货", "少件", "漏发", "未发货", "没发货", "未收到", "没收到", "与描述不符",
    "质量问题", "申诉", "举证", "裁决", "拦截", "运单号", "退货地址", "可退金额", "优惠券", "积分",
    "补发", "开胶", "开线", "起球", "掉色", "色差", "碎了", "压坏", "摔坏", "变质", "发霉", "过期",
    "生鲜", "定制", "虚拟商品", "报刊", "杂志", "吊牌", "拆封", "尺码", "大一号", "小一号", "大一码",
    "转人工", "人工客服", "快递柜", "驿站", "已签收", "签收", "待发货",
)
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 哦 嘛 么 我 你 您 他 她 它 我们 你们 是 在 也 就 都 还 又 和 与 及 或 这 那 这个 那个 "
    "有 没 个 一 一个 要 想 能 会 可以 怎么 怎么办 什么 请问 请 谁 哪 哪里 多久 多少 几 如何 为什么 "
    "the a an is are was be to of and or for in on at it my me i you do does can could how what when "
    "why which who with have has please this that will would should".split()
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_lock = threading.Lock()
_ready = False


def setup(cache_dir: Path | None = None) -> None:
    """Load jieba's dictionary once per process (its cache file goes to our var directory)."""
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            jieba.dt.tmp_dir = str(cache_dir)
        jieba.setLogLevel(60)
        for word in DOMAIN_WORDS:
            jieba.add_word(word, freq=200000)
        jieba.initialize()
        _ready = True


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, Arabic 7 before 天 read as 七."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return text.replace("7天", "七天").replace("7 天", "七天").replace("7-day", "七天 7 day")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 3 and word.endswith("es"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    if len(word) > 3 and word.endswith("ed"):
        return word[:-2]
    return word


def words(text: str) -> list[str]:
    """Content words: jieba's search-mode segments of Chinese, stemmed Latin words; no stop words."""
    setup()
    text = normalise(text)
    out: list[str] = []
    for token in jieba.cut_for_search(text):
        token = token.strip()
        if not token:
            continue
        if _CJK.search(token):
            if token not in STOPWORDS:
                out.append(token)
        else:
            out.extend(_stem(w) for w in _LATIN_WORD.findall(token) if w not in STOPWORDS)
    return out


def features(text: str) -> list[str]:
    """Classifier features: words, word bigrams, and CJK character uni- and bigrams (robust to typos)."""
    tokens = words(text)
    feats = [f"w:{t}" for t in tokens]
    feats += [f"b:{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    chars = [c for c in normalise(text) if _CJK.match(c)]
    feats += [f"c:{c}" for c in chars]
    feats += [f"d:{a}{b}" for a, b in zip(chars, chars[1:], strict=False)]
    if re.search(r"[?？吗么]\s*$|^(怎么|如何|为什么|能不能|可以|多久|多少|谁|哪)|^(how|what|when|why|can|do|does|is|who|where)\b",
                 normalise(text).strip()):
        feats.append("q:asks")
    return feats
