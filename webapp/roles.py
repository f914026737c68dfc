"""Staff roles (domain.md "Who uses it"). Manager and admin may do what any other role may."""
ADVISOR = "advisor"
DISPATCHER = "dispatcher"
TECHNICIAN = "technician"
QC = "qc"
PARTS = "parts"
CASHIER = "cashier"
CSI = "csi"
MANAGER = "manager"
ADMIN = "admin"

ALL = (ADVISOR, DISPATCHER, TECHNICIAN, QC, PARTS, CASHIER, CSI, MANAGER, ADMIN)
SUPERVISORS = (MANAGER, ADMIN)
