"""The service department's figures for a period (/reports): ``month.build`` reads them with a fixed
number of SQL aggregates over indexed columns, ``tables`` lays them out for the page and the exports."""
