"""Fitting and validating: the calibration (`calibration`), its fast stand-in (`standin`), the record of status
changes it is fitted to (`record`), and the validation report (`validation`)."""
