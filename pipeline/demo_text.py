"""Texts the pipeline demo seeder writes: products with FAB, SPIN notes,
objections, reasons. Data, not interface strings (they are not translated)."""

from __future__ import annotations

# code, name, category, unit price (CNY), description, feature, advantage, benefit, kind
PRODUCTS = [
    (
        "SO-MES", "Smart Factory MES", "Software", 480_000,
        "智能制造执行系统：排产、报工、质量追溯一体化。",
        "Real-time production tracking from order to shipment on every line.",
        "Supervisors see stoppages as they happen instead of in next day's report.",
        "Typical plants gain 5–8% output in the first year without new machines.",
        "main",
    ),
    (
        "SO-ERP", "Cloud ERP Suite (annual)", "Software", 260_000,
        "云ERP套件：财务、采购、库存、销售一体化，按年订阅。",
        "Finance, purchasing, inventory and sales in one cloud system.",
        "No servers to run; month-end closing without spreadsheets.",
        "Closing the books takes days instead of weeks; audits are painless.",
        "main",
    ),
    (
        "SO-BI", "Analytics Platform", "Software", 150_000,
        "数据分析平台：自助报表与经营驾驶舱。",
        "Self-service dashboards over ERP, MES and CRM data.",
        "Managers answer their own questions without waiting for IT.",
        "Decisions on yesterday's numbers, not last month's.",
        "main",
    ),
    (
        "SO-WMS", "Warehouse Management System", "Software", 210_000,
        "仓储管理系统：条码、库位、波次拣货。",
        "Barcode receiving, bin locations and wave picking.",
        "Picking errors drop and stock counts match the books.",
        "Fewer wrong shipments and less capital tied up in stock.",
        "main",
    ),
    (
        "SO-QMS", "Quality Management Module", "Software", 120_000,
        "质量管理模块：来料检验、过程控制、8D。",
        "Incoming inspection, SPC and 8D reports linked to batches.",
        "Every defect traced to its batch, machine and shift in seconds.",
        "Fewer customer complaints and faster answers when one comes in.",
        "main",
    ),
    (
        "SO-IOT", "IoT Sensor Kit (10 sensors)", "Hardware", 38_000,
        "物联网传感器套件（10个），含安装支架。",
        "Ten wireless vibration and temperature sensors with mounts.",
        "Fits older machines without PLC changes; installed in an afternoon.",
        "Breakdowns are predicted days ahead, not discovered on the line.",
        "addon",
    ),
    (
        "SO-GW", "Edge Gateway", "Hardware", 12_500,
        "边缘网关：现场数据采集与断网缓存。",
        "Industrial gateway collecting PLC and sensor data, buffering offline.",
        "No data lost when the plant network goes down.",
        "Reliable numbers for OEE and energy reports.",
        "addon",
    ),
    (
        "SO-PORTAL", "Dealer Portal", "Software", 90_000,
        "经销商门户：在线下单、库存与返利查询。",
        "Online ordering, stock and rebate statements for dealers.",
        "Dealers serve themselves around the clock.",
        "Sales support spends time on customers, not on order entry.",
        "main",
    ),
    (
        "SVC-IMPL", "Implementation services (person-day)", "Services", 2_800,
        "实施服务（人天）。",
        "Certified consultants configure, integrate and migrate data.",
        "A proven method with a fixed plan and weekly progress reports.",
        "Go-live on the agreed date, with users ready on day one.",
        "service",
    ),
    (
        "SVC-TRAIN", "On-site training (day)", "Services", 6_000,
        "现场培训（天）。",
        "Hands-on training at the client's site in Chinese or English.",
        "Training on the client's own data and processes.",
        "Users adopt the system quickly; fewer support tickets.",
        "service",
    ),
    (
        "SVC-SUPPORT", "Premium support (annual)", "Services", 45_000,
        "高级支持服务（年）：7×24小时响应。",
        "24/7 hotline, 2-hour response and a named support engineer.",
        "Problems are owned by someone who knows the installation.",
        "Production never waits on the software.",
        "service",
    ),
    (
        "SVC-HEALTH", "System health check", "Services", 18_000,
        "系统健康检查与优化建议。",
        "A two-day review of configuration, performance and usage.",
        "Finds unused features and bottlenecks before users complain.",
        "More value from what the client already paid for.",
        "service",
    ),
]  # fmt: skip

SPIN = [
    (
        "Three assembly lines, paper job cards; output counted at shift end.",
        "Stoppages are noticed late and nobody knows the real OEE.",
        "Each hour of unplanned downtime costs about ¥40,000 and delays deliveries.",
        "A live OEE board would let supervisors react within minutes.",
    ),
    (
        "Finance closes the month with Excel exports from four systems.",
        "Closing takes 12 days; numbers often disagree between departments.",
        "Management decides on stale figures; the auditor flagged two errors last year.",
        "One ledger would cut closing to three days and remove reconciliation work.",
    ),
    (
        "两个仓库，人工记账，每季度盘点一次。",
        "库存账实不符，经常出现缺货和呆滞料。",
        "缺货导致交付延误，呆滞料占用约300万元资金。",
        "条码化库位管理可让库存准确率达到99%以上。",
    ),
    (
        "Quality data sits in inspectors' notebooks and a shared drive.",
        "When a customer complains, tracing the batch takes days.",
        "Two key customers threatened to move orders after slow 8D answers.",
        "Batch traceability would answer complaints the same day.",
    ),
    (
        "经销商通过电话和微信下单，销售助理手工录入。",
        "订单录入错误多，经销商无法查询库存和返利。",
        "销售助理每天花4小时录单，旺季订单积压。",
        "经销商自助下单可释放助理时间，并减少差错。",
    ),
    (
        "Maintenance is calendar-based; older machines have no sensors.",
        "Bearings fail without warning about once a month.",
        "Each failure stops the line for a shift and risks scrap of a full batch.",
        "Vibration monitoring would turn breakdowns into planned repairs.",
    ),
]

# objection, what we confirmed we heard, our response
OBJECTIONS = [
    (
        "Your price is 20% above the other offer.",
        "So the concern is the upfront cost compared with a cheaper package?",
        "Walked through the 3-year cost: implementation and support included, "
        "payback in 14 months.",
    ),
    (
        "We tried a system like this before and users never adopted it.",
        "The worry is that people on the floor will not use it?",
        "Offered on-site training and a two-week pilot on one line with their own operators.",
    ),
    (
        "现在预算已经用完了，明年再说。",
        "您的意思是方案认可，但今年预算不够？",
        "建议分两期实施，今年先上线一期，费用可在明年预算中支付。",
    ),
    (
        "IT is worried about integration with our old ERP.",
        "The risk you see is the interface to the current ERP?",
        "Shared two references with the same ERP version and offered a technical workshop.",
    ),
    (
        "The timeline is too long for us.",
        "You need results before the peak season in September?",
        "Proposed a phased go-live: the first line running in six weeks.",
    ),
    (
        "我们需要总部批准，流程很长。",
        "需要集团总部审批，担心时间拖太久？",
        "准备了总部审批所需的技术方案和投资回报分析，并约总部IT一起开会。",
    ),
]

LOST_REASONS = [
    "Price too high",
    "Chose a competitor",
    "Budget cut",
    "Project postponed",
    "No decision made",
    "Requirements not met",
]
COMPETITORS = [
    "Kingdee",
    "Yonyou",
    "SAP",
    "Oracle",
    "Siemens",
    "Local integrator",
    "In-house build",
]
DISQUALIFY_REASONS = [
    "No budget this year",
    "Too small for our solutions",
    "Student / job seeker",
    "Already under contract with a competitor",
    "Wrong contact, no buying authority",
    "Duplicate of an existing client",
]
PAYMENT_TERMS = [
    "30% on signature, 60% on delivery, 10% after acceptance",
    "50% on signature, 50% after go-live",
    "Net 60 days after invoice",
    "Quarterly in advance",
    "年付，合同签订后30天内支付",
]
CALL_OUTCOMES = [
    "Left a message; will call back tomorrow.",
    "Talked to the purchasing manager; interested in a brochure.",
    "Not the right person; got the IT director's name.",
    "Agreed to a visit next week.",
    "No budget this quarter; follow up in three months.",
    "Sent product information by e-mail after the call.",
    "客户表示有兴趣，约定下周拜访。",
    "电话未接通，明天再联系。",
]
VISIT_OUTCOMES = [
    "Reviewed open issues; client satisfied with support response times.",
    "Met the new plant manager; introduced our roadmap.",
    "Discussed expansion of the second plant; needs a proposal in Q3.",
    "Collected feedback on the last release; two feature requests noted.",
    "拜访客户，了解使用情况，客户反馈良好。",
    "Checked usage reports together; agreed on extra training.",
]
NEXT_STEPS = [
    "Send the revised proposal",
    "Book a demo with the IT team",
    "Call the purchasing manager on Friday",
    "Prepare the ROI calculation",
    "Invite to the customer day",
    "安排技术交流会",
    "Get the legal review started",
]
OTHER_SUBJECTS = [
    "Sent samples by courier",
    "Factory tour for the client's engineers",
    "Answered an invoice question",
    "寄送产品样品和资料",
]
MILESTONES = [
    ("Kick-off", 0.05),
    ("Requirements signed off", 0.2),
    ("Configuration and integration", 0.5),
    ("User acceptance test", 0.7),
    ("Go-live", 0.85),
    ("Final acceptance", 1.0),
]
TASKS = [
    "Prepare the workshop agenda",
    "Collect master data",
    "Configure user roles",
    "Set up the interface to the ERP",
    "Train key users",
    "Run the test scripts",
    "Cut-over plan",
    "Hypercare support",
]

# name, kind, venue, months (1-12) it runs in
EVENTS = [
    ("China International Industry Fair (CIIF)", "trade_show", "NECC, Shanghai", (9,)),
    ("Canton Fair", "trade_show", "Canton Fair Complex, Guangzhou", (4, 10)),
    ("China Hi-Tech Fair", "trade_show", "Shenzhen World Exhibition Center", (11,)),
    ("SEMICON China", "trade_show", "Shanghai New International Expo Centre", (3,)),
    ("Smart Manufacturing Forum", "forum", "Suzhou International Expo Center", (5, 11)),
    ("CIO Roundtable", "forum", "Beijing, Kerry Hotel", (6, 12)),
    ("Lean Production Seminar", "seminar", "Hangzhou, company office", (2, 5, 8, 11)),
    ("Webinar: Real-time OEE in 30 minutes", "webinar", "Online", (1, 4, 7, 10)),
    ("Customer Day", "client_event", "Shanghai, company office", (6, 12)),
    ("WeChat article series", "campaign", "WeChat", (1, 3, 5, 7, 9, 11)),
    ("Baidu search campaign", "campaign", "Baidu", (2, 6, 10)),
]  # fmt: skip
