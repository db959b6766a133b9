# A sample ticket for `motcua kiosk preview`: the real layout with example values, as the printer would print it.
from __future__ import annotations

from pathlib import Path

from bus import catalogue as cat
from kiosk.core import SHIPPED_CATALOGUE
from kiosk.printing import preview, profiles
from kiosk.printing.layout import TicketData, ticket_layout


def preview_ticket(out: str | Path, procedure: str = "1.001193", label: str = "A023", lang: str = "vi",
                   profile: str = "TM-T20II", width_px: int = 0, ward: str = "Phường Mẫu - Bộ phận một cửa",
                   catalogue_path: str = "", link_template: str = "") -> Path:
    catalogue = cat.load(catalogue_path or SHIPPED_CATALOGUE)
    proc = catalogue.procedure(procedure)
    if proc is None:
        raise KeyError(f"procedure {procedure} is not in the catalogue")
    field = next(f for f in catalogue.fields if any(p.code == procedure for p in f.procedures))
    vi = lang == "vi"
    data = TicketData(
        ward=ward, label=label, service=field.name_vi if vi else field.name_en, issued="22/11/2026 09:41",
        ahead="4", wait="15–25 phút" if vi else "15–25 min", qr_url=catalogue.link(procedure, link_template),
        qr_caption=("Giấy tờ cần mang: " + proc.name_vi) if vi else ("What to bring: " + proc.name_en),
        footer="Vui lòng chờ đến khi số của bạn được gọi." if vi else "Please wait until your number is called.",
        lang=lang)
    return preview.save(ticket_layout(data, width_px or profiles.width(profile)), out)
