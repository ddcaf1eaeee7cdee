"""Scheduled documents: the bureau's monthly report (月报) and each village's quarterly
statement — made of the figures the dashboards show (this package reads them through the
API's data functions, one implementation of each figure), as PDF and XLSX, archived
unchanged, and delivered by e-mail and group robot (DESIGN §7 "Reports")."""
