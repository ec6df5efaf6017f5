"""Market data: read files, clean rows, check quality, calendars, resampling, synthetic data.

The import use case writes through the ports in `orchestrade.data.ports`; the storage
package implements them (`orchestrade.storage.open_store`).
"""

from orchestrade.data.calendars import is_session, session_open_close, sessions
from orchestrade.data.cleaning import RejectedRows, clean_bars, clean_book_levels
from orchestrade.data.errors import DataError, DataFileError, FrameError, StoreError
from orchestrade.data.files import MarketFile, discover_files, read_market_file
from orchestrade.data.importing import ImportReport, import_paths, store_synthetic
from orchestrade.data.panel import BarPanel
from orchestrade.data.quality import QualityReport, check_quality
from orchestrade.data.quality.book import check_book_quality
from orchestrade.data.quality.targets import quality_of_files, quality_of_store
from orchestrade.data.resampling import resample_bars, ticks_to_bars
from orchestrade.data.synthetic import SyntheticMarket, synthesize_market

__all__ = [
    "BarPanel",
    "DataError",
    "DataFileError",
    "FrameError",
    "ImportReport",
    "MarketFile",
    "QualityReport",
    "RejectedRows",
    "StoreError",
    "SyntheticMarket",
    "check_book_quality",
    "check_quality",
    "clean_bars",
    "clean_book_levels",
    "discover_files",
    "import_paths",
    "is_session",
    "quality_of_files",
    "quality_of_store",
    "read_market_file",
    "resample_bars",
    "session_open_close",
    "sessions",
    "store_synthetic",
    "synthesize_market",
    "ticks_to_bars",
]
