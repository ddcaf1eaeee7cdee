import datetime as dt

import pytest

from pvmon.domain import CertificateTerms, CertState, add_years, certificate_state

ISSUED = dt.date(2020, 5, 10)
TERMS = CertificateTerms(
    issued_on=ISSUED, expires_on=add_years(ISSUED, 6), review_due_on=add_years(ISSUED, 3)
)


@pytest.mark.parametrize(
    ("terms", "on", "state"),
    [
        (TERMS, dt.date(2020, 5, 9), CertState.NOT_YET_VALID),
        (TERMS, dt.date(2021, 1, 1), CertState.VALID),
        (TERMS, dt.date(2023, 5, 10), CertState.VALID),  # the review is due that day
        (TERMS, dt.date(2023, 5, 11), CertState.REVIEW_OVERDUE),
        (
            CertificateTerms(
                ISSUED, dt.date(2026, 5, 10), dt.date(2023, 5, 10), reviewed_on=dt.date(2023, 4, 1)
            ),
            dt.date(2025, 1, 1),
            CertState.VALID,
        ),
        (
            CertificateTerms(
                ISSUED, dt.date(2026, 5, 10), dt.date(2023, 5, 10), reviewed_on=dt.date(2023, 4, 1)
            ),
            dt.date(2026, 5, 11),
            CertState.EXPIRED,
        ),
    ],
)
def test_certificate_state(terms: CertificateTerms, on: dt.date, state: CertState) -> None:
    assert certificate_state(terms, on) == state


def test_add_years_keeps_leap_day_sensible() -> None:
    assert add_years(dt.date(2020, 2, 29), 3) == dt.date(2023, 2, 28)
    assert add_years(dt.date(2020, 2, 29), 4) == dt.date(2024, 2, 29)
