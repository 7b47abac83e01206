"""Every error code the API can answer, with a sentence for people (Chinese source, English in locale/api).

The API's errors carry `detail` in the requester's language (LocaleMiddleware: the session's language, else
`Accept-Language`; zh-hans by default). A refusal that says something more precise keeps its own sentence
(translated where it is raised); this catalogue is the sentence for a code raised without one, for DRF's and
Django's own refusals (which would otherwise speak English or mix languages), and the safety net when a
sentence reaches the handler in the other language (docs/api-schema.md, "Error texts").
"""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

CODE_DETAILS: dict[str, Promise] = {
    # requests and their fields
    "invalid": _("请求中有无效的值"),
    "required": _("缺少必填字段"),
    "parse_error": _("请求体无法解析：须为有效的 JSON 或表单"),
    "invalid_json": _("请求体不是有效的 JSON"),
    "unsupported_media_type": _("不接受这种请求体格式"),
    "not_acceptable": _("无法以请求所接受的格式（Accept）作答"),
    "method_not_allowed": _("此地址不接受该请求方法"),
    "duplicate": _("已有相同的记录"),
    "region_retired": _("该地区编码已撤销"),
    # who is asking
    "not_authenticated": _("请先登录，或提供有效的令牌"),
    "authentication_failed": _("身份验证失败：令牌无效、已过期或其用户已停用"),
    "invalid_credentials": _("用户名或密码错误"),
    "too_many_attempts": _("该用户从此地址登录失败次数过多，请 15 分钟后再试"),
    "permission_denied": _("您无权执行此操作"),
    "forbidden": _("您无权访问此内容"),
    "not_found": _("找不到该资源"),
    "not_your_order": _("找不到该订单商品"),
    "rate_limited": _("请求过于频繁，请稍后再试"),
    "service_unavailable": _("数据库暂时不可用，请稍后重试"),
    "server_error": _("服务器出错了，我们已记录此问题"),
    # the case's state and races
    "invalid_transition": _("售后单当前的状态不能执行此操作"),
    "conflict": _("他人刚刚修改了同一内容，请刷新后重试"),
    # eligibility at submission (lifecycle.md's table) and revisions
    "case_already_open": _("该商品已有进行中的售后单"),
    "not_delivered": _("商品签收前只能以“未发货”或“未收到货”申请仅退款"),
    "reason_not_applicable": _("该原因不适用于这项申请"),
    "quantity_exceeds_purchased": _("数量超过了仍可申请的件数"),
    "amount_exceeds_paid": _("金额超过了可退金额"),
    "amount_not_allowed": _("换货和维修不能申请退款金额"),
    "window_expired": _("已超过申请期限"),
    "category_excluded": _("该商品不支持七天无理由退货"),
    "condition_required": _("无理由退货须确认商品完好、不影响二次销售"),
    "warranty_expired": _("已过保修期，或该商品没有保修"),
    "evidence_required": _("请至少上传一张照片作为凭证"),
    "report_window_expired": _("运输途中损坏须在签收后 48 小时内申请"),
    "amount_below_paid": _("金额不能低于已退给买家的金额"),
    # files
    "file_too_large": _("文件过大：每个文件不超过 10 MB"),
    "unsupported_file_type": _("不支持这种文件类型"),
    "too_many_files": _("文件数量过多"),
    "empty_file": _("文件是空的"),
    # door-to-door pickup
    "region_not_covered": _("您的地址不在上门取件服务范围内"),
    "remote_region": _("偏远地区暂不支持上门取件"),
    "overweight": _("包裹超过了快递的重量上限"),
    "oversize": _("包裹超过了快递的尺寸上限"),
    "no_slot": _("该时段已约满，请选择其他时段"),
    "wrong_state": _("当前售后单状态不能预约上门取件"),
    "pickup_active": _("该售后单已有进行中的上门取件"),
    # the courier's webhook
    "invalid_signature": _("签名无效"),
    "stale_timestamp": _("时间戳已过期"),
    # appeals, interception, ratings
    "appeal_window_closed": _("申诉期已过"),
    "already_appealed": _("该裁决已经申诉过"),
    "not_appealable": _("该售后单不能申诉"),
    "already_answered": _("该申诉已经答复过"),
    "answer_window_closed": _("答复期已过"),
    "not_interceptable": _("该包裹不能拦截"),
    "visit_not_offered": _("该售后单不提供上门维修"),
    "not_rateable": _("售后单结束后才能评价"),
    "already_rated": _("该售后单已经评价过"),
    "rating_window_closed": _("评价期已过：售后单结束后 15 天内可以评价"),
}

_HAN = re.compile(r"[\u3400-\u9fff]")


def code_detail(code: str) -> str:
    """The catalogue's sentence for `code` in the active language (a code outside it: the generic 400's)."""
    return str(CODE_DETAILS.get(code, CODE_DETAILS["invalid"]))


def in_language(code: str, detail: object) -> str:
    """`detail` when it is a sentence in the active language, else the catalogue's sentence for `code`.

    Chinese is told by its characters: an English answer never carries a Chinese refusal, and a Chinese one
    never an English sentence (DRF's defaults, a message not yet translated). An English detail quoting Chinese
    user data (a region's name) falls back too; the body's other fields still say what is at fault.
    """
    text = str(detail or "")
    chinese = (get_language() or "zh-hans").lower().startswith("zh")
    if not text or text == code or bool(_HAN.search(text)) is not chinese:
        return code_detail(code)
    return text
