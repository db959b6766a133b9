# Ticket printing: the job decoded back to text, raster and QR; backends over a pty, loopback TCP and files.
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
import zxingcpp
from PIL import ImageOps

from kiosk.errors import PrinterError
from kiosk.printing import job as jobs
from kiosk.printing import preview
from kiosk.printing.file import FilePrinter
from kiosk.printing.layout import TicketData, ticket_layout
from kiosk.printing.network import NetworkPrinter
from kiosk.printing.serial import SerialPrinter
from kiosk.printing.status import PrinterStatus, decode
from tests.escpos_decode import decode as decode_job

URL = "https://dichvucong.gov.vn/p/home/dvc-chi-tiet-thu-tuc-hanh-chinh.html?ma_thu_tuc=1.001193"
TICKET = TicketData(ward="Phường Mẫu - Bộ phận một cửa", label="A023", service="Hộ tịch", issued="22/11/2026 09:41",
                    ahead="3", wait="15–25 phút", qr_url=URL, qr_caption="Giấy tờ cần mang: Đăng ký khai sinh",
                    footer="Vui lòng chờ đến khi số của bạn được gọi.")


def test_job_has_number_in_big_native_font_qr_native_and_vietnamese_only_as_raster() -> None:
    job = jobs.compose(ticket_layout(TICKET, 576), "TM-T20II", native_qr=True)
    d = decode_job(job)
    assert b"A023" in d.text and 0x33 in d.sizes  # GS ! 0x33: 4x width, 4x height
    assert d.qr == [URL]
    assert len(d.rasters) >= 3 and all(r.width <= 576 for r in d.rasters)
    assert d.text.isascii(), "Vietnamese must never be sent as code-page text"
    for word in ("Hộ tịch", "Phường", "chờ"):
        for enc in ("utf-8", "cp1258"):
            assert word.encode(enc, "ignore") not in d.text or word.encode(enc, "ignore").isascii()
    assert d.cut
    assert len(job) <= 24 * 1024


def test_the_standard_ticket_is_small_and_its_lines_stay_centred() -> None:
    job = jobs.compose(ticket_layout(TICKET, 576), "TM-T20II", native_qr=True)
    assert len(job) <= 12 * 1024, len(job)  # a raster row is width/8 bytes: blank margins are not sent
    for image in decode_job(job).rasters:
        assert image.width % 8 == 0 and image.width < 576
        left, _, right, _ = ImageOps.invert(image.convert("L")).getbbox()
        assert abs((left + right) / 2 - image.width / 2) <= 8  # the ink centred in a raster printed centred


def test_without_native_qr_the_qr_is_a_raster_that_scans(tmp_path: Path) -> None:
    job = jobs.compose(ticket_layout(TICKET, 384), "NT-5890K", native_qr=False)
    d = decode_job(job)
    assert d.qr == []
    found = [r.text for img in d.rasters for r in zxingcpp.read_barcodes(img.convert("L"))]
    assert URL in found


def test_raster_really_contains_ink_for_the_vietnamese_lines() -> None:
    d = decode_job(jobs.compose(ticket_layout(TICKET, 576), "TM-T20II", native_qr=True))
    for image in d.rasters:
        assert image.convert("L").getextrema()[0] == 0  # some black dots


def test_preview_png_matches_the_layout(tmp_path: Path) -> None:
    path = preview.save(ticket_layout(TICKET, 576), tmp_path / "ticket.png")
    from PIL import Image

    image = Image.open(path)
    assert image.format == "PNG" and image.width == 576 + 32
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [URL]


@pytest.mark.parametrize(("answers", "expected"), [
    ((0x12, 0x12, 0x12), PrinterStatus.OK),
    ((0x12, 0x12, 0x72), PrinterStatus.PAPER_OUT),
    ((0x12, 0x12, 0x1E), PrinterStatus.PAPER_LOW),
    ((0x12, 0x16, 0x12), PrinterStatus.COVER_OPEN),
    ((0x1A, 0x12, 0x12), PrinterStatus.OFFLINE),
    ((0x12, None, 0x12), PrinterStatus.NO_ANSWER),
    ((0x00, 0x00, 0x00), PrinterStatus.NO_ANSWER),  # "0" is not "no paper": it is not a status byte at all
])
def test_status_bytes(answers: tuple, expected: PrinterStatus) -> None:
    assert decode(*answers) is expected


class PtyPrinter:
    """The far end of a pty behaving like a printer: answers DLE EOT with set bytes and keeps what it receives."""

    def __init__(self, paper: int = 0x12, answer: bool = True) -> None:
        self.master, self.slave = os.openpty()  # the slave stays open: closing it would end the master's reads
        self.port = os.ttyname(self.slave)
        self.paper, self.answer, self.received = paper, answer, bytearray()
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            if self.answer:
                for n in data.split(b"\x10\x04")[1:]:
                    if n[:1] in (b"\x01", b"\x02", b"\x04"):
                        os.write(self.master, bytes([self.paper if n[:1] == b"\x04" else 0x12]))


def test_serial_backend_prints_and_reads_status_over_a_pty() -> None:
    far = PtyPrinter()
    printer = SerialPrinter(far.port, 19200, "TM-T20II", timeout=1.0)
    job = jobs.compose(ticket_layout(TICKET, 576), "TM-T20II", True)
    assert printer.print_job(job) is PrinterStatus.OK
    threading.Event().wait(0.2)
    assert job in bytes(far.received)
    far.paper = 0x72
    assert printer.status() is PrinterStatus.PAPER_OUT
    with pytest.raises(PrinterError, match="paper_out"):
        printer.print_job(job)
    printer.close()


def test_serial_backend_silent_printer_is_no_answer_not_paper_out() -> None:
    far = PtyPrinter(answer=False)
    printer = SerialPrinter(far.port, 19200, "TM-T20II", timeout=0.3)
    assert printer.status() is PrinterStatus.NO_ANSWER
    printer.close()


def test_serial_backend_missing_port_is_unplugged() -> None:
    printer = SerialPrinter("/dev/ttyNOPE9", 19200, "TM-T20II", timeout=0.3)
    assert printer.status() is PrinterStatus.UNPLUGGED
    with pytest.raises(PrinterError, match="unplugged"):
        printer.write(b"x")


def test_network_backend_over_loopback() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    received = bytearray()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                received.extend(data)
                conn.sendall(b"\x12" * data.count(b"\x10\x04"))

    threading.Thread(target=serve, daemon=True).start()
    printer = NetworkPrinter("127.0.0.1", port, "TM-T20II", timeout=1.0)
    assert printer.print_job(b"\x1b@hello\n") is PrinterStatus.OK
    printer.close()
    server.close()
    assert b"hello" in received


def test_file_backend_writes_one_file_per_job_in_a_folder(tmp_path: Path) -> None:
    printer = FilePrinter(str(tmp_path), "TM-T20II")
    printer.print_job(b"one")
    printer.print_job(b"two")
    assert sorted(p.read_bytes() for p in tmp_path.iterdir()) == [b"one", b"two"]
    gone = FilePrinter(str(tmp_path / "no" / "such" / "lp0"), "TM-T20II")
    assert gone.status() is PrinterStatus.UNPLUGGED


def test_usb_backend_prints_reads_status_times_out_and_survives_an_unplug() -> None:
    from kiosk.printing.usb import UsbPrinter
    from tests.usb_printer import SimulatedUsbPrinter

    device = SimulatedUsbPrinter()
    printer = UsbPrinter(0x04B8, 0x0202, "TM-T20II", timeout=0.5, usb_backend=device)
    job = jobs.compose(ticket_layout(TICKET, 576), "TM-T20II", True)
    assert printer.print_job(job) is PrinterStatus.OK
    assert job in bytes(device.received)
    assert device.timeouts and all(0 < t <= 500 for t in device.timeouts), "every USB transfer has a timeout"
    device.status_byte = 0x72
    assert printer.status() is PrinterStatus.PAPER_OUT
    device.answer = False
    assert printer.status() is PrinterStatus.NO_ANSWER
    device.plugged = False  # the power cycle that makes USB printers vanish
    assert printer.status() is PrinterStatus.UNPLUGGED
    with pytest.raises(PrinterError, match="unplugged"):
        printer.write(b"x")
    device.plugged, device.answer, device.status_byte = True, True, 0x12
    assert printer.print_job(b"\x1b@again") is PrinterStatus.OK  # reopened by itself


def test_usb_backend_with_no_device_is_unplugged() -> None:
    from kiosk.printing.usb import UsbPrinter
    from tests.usb_printer import SimulatedUsbPrinter

    device = SimulatedUsbPrinter(product=0x9999)
    printer = UsbPrinter(0x04B8, 0x0202, "TM-T20II", timeout=0.5, usb_backend=device)
    assert printer.status() is PrinterStatus.UNPLUGGED
