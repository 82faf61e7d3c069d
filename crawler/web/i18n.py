"""The pages' words in Vietnamese (the default) and English.

A small table rather than gettext catalogues: two languages, a few dozen phrases, and no
compile step. The English phrase is the key; a phrase missing from the table shows in
English (a test checks that every phrase the templates use is translated).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LANGUAGES", "VI", "translator"]

LANGUAGES = ("vi", "en")

VI: dict[str, str] = {
    "Alerts": "Cảnh báo",
    "Article": "Bài báo",
    "Search": "Tìm kiếm",
    "Sources": "Nguồn tin",
    "Watches": "Theo dõi",
    "Deliveries": "Gửi đi",
    "Watch": "Theo dõi",
    "Source": "Nguồn",
    "Channel": "Kênh",
    "From": "Từ ngày",
    "To": "Đến ngày",
    "Filter": "Lọc",
    "All": "Tất cả",
    "Published": "Đăng lúc",
    "Found": "Phát hiện lúc",
    "Next page": "Trang sau",
    "No alerts.": "Không có cảnh báo nào.",
    "Open the original": "Mở bài gốc",
    "Why each watch matched or not": "Vì sao từng mục theo dõi khớp hay không",
    "matched": "khớp",
    "not matched": "không khớp",
    "alert sent": "đã tạo cảnh báo",
    "Query": "Truy vấn",
    "No article matched.": "Không có bài nào khớp.",
    "Last poll": "Lần quét cuối",
    "Result": "Kết quả",
    "Lag": "Độ trễ",
    "Failures in a row": "Lỗi liên tiếp",
    "Last error": "Lỗi gần nhất",
    "Last new article": "Bài mới gần nhất",
    "Stale": "Không có bài mới",
    "Articles (24 h / 7 days)": "Số bài (24 giờ / 7 ngày)",
    "Rule": "Quy tắc",
    "Alerts per day (14 days)": "Cảnh báo mỗi ngày (14 ngày)",
    "Tester": "Thử quy tắc",
    "Paste a text": "Dán một đoạn văn bản",
    "or a stored article's number": "hoặc số của một bài đã lưu",
    "A new watch to try (YAML, optional)": "Mục theo dõi mới để thử (YAML, không bắt buộc)",
    "Try": "Thử",
    "State": "Trạng thái",
    "Attempts": "Số lần gửi",
    "Next attempt": "Lần gửi tới",
    "Retry": "Gửi lại",
    "Nothing waiting.": "Không có gì đang chờ.",
    "pending": "đang chờ",
    "retrying": "đang thử lại",
    "dead": "thất bại",
    "delivered": "đã gửi",
    "Re-queued.": "Đã xếp lại vào hàng đợi.",
    "Sign in": "Đăng nhập",
    "Access token": "Mã truy cập",
    "Wrong token.": "Mã không đúng.",
    "Also in": "Cũng có ở",
    "Results": "Kết quả",
    "Language": "Ngôn ngữ",
    "newswatch — news monitor": "newswatch — theo dõi báo chí",
    "Text": "Văn bản",
    "not found": "không tìm thấy",
    "By": "Tác giả",
    "ok": "ổn",
    "degraded": "chưa trọn vẹn",
    "failed": "lỗi",
    "timeout": "quá giờ",
    "crashed": "hỏng giữa chừng",
    "stopped": "đã dừng",
    "running": "đang chạy",
    "never": "chưa bao giờ",
    "This form expired or came from another site: reload the page and send it again.": (
        "Biểu mẫu đã hết hạn hoặc được gửi từ trang khác: hãy tải lại trang rồi gửi lại."
    ),
}


def translator(lang: str) -> Callable[[str], str]:
    """The ``_()`` of the templates for one language."""
    if lang == "en":
        return lambda text: text
    return lambda text: VI.get(text, text)
