-- A newswatch 0.1 database (schema_version 3), dumped with sqlite3's iterdump after the
-- 0.1 demo ran on its bundled local site, plus one pending alert and one notice recorded
-- with 0.1's own Store. tests/test_store_migrations.py upgrades it in place.
BEGIN TRANSACTION;
CREATE TABLE alerts (
	id INTEGER NOT NULL, 
	watch VARCHAR(200) NOT NULL, 
	label TEXT NOT NULL, 
	article_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_alert_watch_article UNIQUE (watch, article_id), 
	FOREIGN KEY(article_id) REFERENCES articles (id) ON DELETE CASCADE
);
INSERT INTO "alerts" VALUES(1,'quan-hai-ba-trung','Quận Hai Bà Trưng và các phường kế thừa',4,'2026-12-06 05:08:34.390628');
INSERT INTO "alerts" VALUES(2,'nguyen-van-phong','Ông Nguyễn Văn Phong',4,'2026-12-06 05:08:34.390628');
INSERT INTO "alerts" VALUES(3,'duong-duc-tuan','Ông Dương Đức Tuấn',4,'2026-12-06 05:08:34.390628');
INSERT INTO "alerts" VALUES(4,'quan-hai-ba-trung','Quận Hai Bà Trưng và các phường kế thừa',5,'2026-12-06 05:08:34.403446');
INSERT INTO "alerts" VALUES(5,'nguyen-van-phong','Ông Nguyễn Văn Phong',6,'2026-12-06 05:08:44.274264');
CREATE TABLE articles (
	id INTEGER NOT NULL, 
	url TEXT NOT NULL, 
	source VARCHAR(100) NOT NULL, 
	title TEXT NOT NULL, 
	published DATETIME, 
	author TEXT, 
	text TEXT NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	fetched_at DATETIME NOT NULL, 
	flags TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (url)
);
INSERT INTO "articles" VALUES(1,'http://127.0.0.1:42841/hai-ba-trung-bay-hang-tet-o-cho-dong-xuan-250002.html','tintudo-demo','Hai bà trưng bày hàng Tết ở chợ Đồng Xuân từ sáng sớm','2026-12-06 04:28:32.000000',NULL,'Hai bà trưng bày hàng Tết ở chợ Đồng Xuân từ sáng sớm
Từ 5 giờ sáng, hai bà trưng bày hàng Tết trước cửa chợ Đồng Xuân, chờ những khách hàng đầu tiên của ngày.
Bà Lan và bà Hạnh, hai chị em ruột, đã buôn bán mứt Tết ở khu chợ này hơn hai mươi năm. Mỗi sáng, hai bà trưng bày hàng lên những chiếc mẹt tre, xếp ngay ngắn từng hộp mứt gừng, mứt sen, ô mai.
Theo các tiểu thương, sức mua năm nay tăng nhẹ so với năm trước. Khách mua chủ yếu là người dân trong phố cổ và khách du lịch muốn tìm quà Tết truyền thống.
Ban quản lý chợ cho biết đã bố trí thêm lực lượng bảo vệ, nhắc nhở tiểu thương không lấn chiếm lòng đường và bảo đảm an toàn phòng cháy trong những ngày cao điểm.','4c48a564ac18e3736049ba00f708e1e0ad2f929687a2486bbb3cafe7f901b938','2026-12-06 05:08:34.369421','');
INSERT INTO "articles" VALUES(2,'http://127.0.0.1:42841/sua-chua-mat-duong-hai-ba-trung-o-trung-tam-tp-ho-chi-minh-250003.html','tintudo-demo','Sửa chữa mặt đường Hai Bà Trưng ở trung tâm TP Hồ Chí Minh','2026-12-06 04:38:32.000000',NULL,'Sửa chữa mặt đường Hai Bà Trưng ở trung tâm TP Hồ Chí Minh
Đoạn đường Hai Bà Trưng qua phường Sài Gòn, TP Hồ Chí Minh sẽ được thảm lại mặt đường trong hai tuần, người đi xe được khuyến cáo đi đường khác.
Theo Sở Xây dựng TP Hồ Chí Minh, việc thi công được chia thành nhiều phân đoạn, chủ yếu vào ban đêm để hạn chế ảnh hưởng giao thông. Các phương tiện lưu thông trên đường Hai Bà Trưng được hướng dẫn đi vào làn bên phải.
Đơn vị thi công cam kết hoàn trả mặt bằng trước giờ cao điểm buổi sáng, bố trí biển báo và người hướng dẫn tại các nút giao.
Người dân sống dọc tuyến đường cho biết họ ủng hộ việc sửa chữa vì mặt đường đã xuống cấp, nhiều ổ gà sau mùa mưa.','4b8100976d941ea1817499ca28d837f1a4be69b5b06aa825eaf60d10ac9e9080','2026-12-06 05:08:34.381126','');
INSERT INTO "articles" VALUES(3,'http://127.0.0.1:42841/ha-noi-du-bao-ret-dam-keo-dai-den-cuoi-tuan-250005.html','tintudo-demo','Hà Nội dự báo rét đậm kéo dài đến cuối tuần','2026-12-06 04:58:32.000000',NULL,'Hà Nội dự báo rét đậm kéo dài đến cuối tuần
Không khí lạnh tăng cường khiến nhiệt độ thấp nhất ở Hà Nội xuống dưới 12 độ C, vùng núi có nơi dưới 5 độ C.
Trung tâm Dự báo khí tượng thủy văn quốc gia cho biết đợt rét này có thể kéo dài đến hết cuối tuần. Người dân cần giữ ấm, đặc biệt với trẻ nhỏ và người cao tuổi.
Các trường học được khuyến cáo cho học sinh mầm non, tiểu học nghỉ học khi nhiệt độ xuống dưới 10 độ C vào buổi sáng.
Ngành nông nghiệp đề nghị các địa phương che chắn chuồng trại, bảo vệ cây trồng vụ đông trước sương muối.','497780ffd114bd56f060594c71f0a9c737961606cc81d43558dcbd159237579f','2026-12-06 05:08:34.385898','');
INSERT INTO "articles" VALUES(4,'http://127.0.0.1:42841/quan-hai-ba-trung-can-manh-dan-quyet-liet-tao-dot-pha-phat-trien-kinh-te-250001.html','tintudo-demo','Quận Hai Bà Trưng cần mạnh dạn, quyết liệt tạo đột phá phát triển kinh tế','2026-12-06 04:18:32.000000',NULL,'Quận Hai Bà Trưng cần mạnh dạn, quyết liệt tạo đột phá phát triển kinh tế
Chiều qua, Phó Bí thư Thành ủy Hà Nội Nguyễn Văn Phong làm việc với Ban Thường vụ Quận ủy Hai Bà Trưng về kết quả thực hiện nhiệm vụ năm và phương hướng thời gian tới.
Cùng dự buổi làm việc có Phó Chủ tịch UBND thành phố Dương Đức Tuấn, lãnh đạo một số sở, ngành của Hà Nội. Về phía quận có Bí thư Quận ủy Nguyễn Văn Nam, Chủ tịch UBND quận Nguyễn Quang Trung cùng các đồng chí trong Ban Thường vụ.
Báo cáo tại buổi làm việc cho biết, năm qua tổng thu ngân sách trên địa bàn quận đạt hơn 11.000 tỷ đồng, vượt dự toán được giao. Công tác chỉnh trang đô thị, giải phóng mặt bằng các dự án trọng điểm có nhiều chuyển biến.
Trưởng phòng Y tế quận Cao Thị Hoa cho biết, ngành y tế quận đã chủ động triển khai tiêm vắc xin, bảo đảm an toàn cho các trường học và chợ dân sinh trong dịp cuối năm.
Phát biểu chỉ đạo, Phó Bí thư Thành ủy Nguyễn Văn Phong đề nghị quận Hai Bà Trưng mạnh dạn, quyết liệt hơn nữa để tạo đột phá trong phát triển kinh tế, nhất là thương mại, dịch vụ, đồng thời quan tâm chăm lo đời sống nhân dân.','34be9422f9be9e12497493aef77a95fb647ea3a71db84616e259752475df047a','2026-12-06 05:08:34.390628','');
INSERT INTO "articles" VALUES(5,'http://127.0.0.1:42841/phuong-bach-mai-ra-mat-mo-hinh-to-dan-pho-so-250004.html','tintudo-demo','PHƯỜNG BẠCH MAI RA MẮT MÔ HÌNH TỔ DÂN PHỐ SỐ','2026-12-06 04:48:32.000000',NULL,'PHƯỜNG BẠCH MAI RA MẮT MÔ HÌNH TỔ DÂN PHỐ SỐ
Phường Bạch Mai (Hà Nội) vừa ra mắt mô hình tổ dân phố số, giúp người dân nhận thông báo và phản ánh kiến nghị ngay trên điện thoại.
Sau khi sắp xếp đơn vị hành chính từ ngày 1/7/2025, phường Bạch Mai được thành lập trên cơ sở một phần địa giới của quận Hai Bà Trưng cũ. Chính quyền phường xác định chuyển đổi số là nhiệm vụ trọng tâm.
Với ứng dụng mới, mỗi hộ gia đình có thể xem lịch thu phí, lịch tiêm chủng, gửi ảnh phản ánh vi phạm trật tự đô thị và theo dõi kết quả xử lý.
Lãnh đạo phường cho biết sẽ nhân rộng mô hình ra toàn bộ các tổ dân phố trong quý tới, đồng thời tổ chức các lớp hướng dẫn cho người cao tuổi.','d384c4130c6605260aab5c5b8fce38387bb484bdc86e8a2347753df4321475a0','2026-12-06 05:08:34.403446','');
INSERT INTO "articles" VALUES(6,'http://127.0.0.1/pending-1.html','demo','Lễ ra mắt',NULL,'Minh An','Lễ ra mắt
Phó Bí thư Thường trực Thành uỷ Nguyễn Văn Phong dự lễ ra mắt mô hình.','4fb4022c6a61dd863025c7d0d4421f63a910f99b8e7d47c1c13d5ca8683fd39e','2026-12-06 05:08:44.274264','');
CREATE TABLE channel_leases (
	channel VARCHAR(100) NOT NULL, 
	owner VARCHAR(80) NOT NULL, 
	until DATETIME NOT NULL, 
	PRIMARY KEY (channel)
);
CREATE TABLE channel_state (
	channel VARCHAR(100) NOT NULL, 
	disabled_at DATETIME, 
	disabled_reason TEXT, 
	failures INTEGER NOT NULL, 
	open_until DATETIME, 
	cooldown INTEGER NOT NULL, 
	paused_until DATETIME, 
	last_success_at DATETIME, 
	last_failure_at DATETIME, 
	last_error TEXT, 
	PRIMARY KEY (channel)
);
INSERT INTO "channel_state" VALUES('local',NULL,NULL,0,NULL,0,NULL,'2026-12-06 05:08:34.856907',NULL,NULL);
INSERT INTO "channel_state" VALUES('receiver',NULL,NULL,0,NULL,0,NULL,'2026-12-06 05:08:34.989853',NULL,NULL);
CREATE TABLE deliveries (
	id INTEGER NOT NULL, 
	alert_id INTEGER NOT NULL, 
	channel VARCHAR(100) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt DATETIME NOT NULL, 
	lease_until DATETIME, 
	last_error TEXT, 
	message_id VARCHAR(80) NOT NULL, 
	created_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_delivery_alert_channel UNIQUE (alert_id, channel), 
	FOREIGN KEY(alert_id) REFERENCES alerts (id) ON DELETE CASCADE, 
	UNIQUE (message_id)
);
INSERT INTO "deliveries" VALUES(1,1,'receiver','delivered',1,'2026-12-06 05:08:34.390628',NULL,NULL,'nw_f3f295e957a07af20afa29f19227ac0d','2026-12-06 05:08:34.390628','2026-12-06 05:08:34.849448');
INSERT INTO "deliveries" VALUES(2,1,'local','delivered',1,'2026-12-06 05:08:34.390628',NULL,NULL,'nw_71acfcbd07a41f028de6c3611c153cba','2026-12-06 05:08:34.390628','2026-12-06 05:08:34.774033');
INSERT INTO "deliveries" VALUES(3,2,'receiver','delivered',1,'2026-12-06 05:08:34.390628',NULL,NULL,'nw_9757df22e7be731e8c1a49b948109fee','2026-12-06 05:08:34.390628','2026-12-06 05:08:34.921158');
INSERT INTO "deliveries" VALUES(4,2,'local','delivered',1,'2026-12-06 05:08:34.390628',NULL,NULL,'nw_3a19f813f098b0d230447f1892550a7d','2026-12-06 05:08:34.390628','2026-12-06 05:08:34.821260');
INSERT INTO "deliveries" VALUES(5,3,'receiver','delivered',1,'2026-12-06 05:08:34.390628',NULL,NULL,'nw_e5eefdeb9bbe4ded6992eff116be128f','2026-12-06 05:08:34.390628','2026-12-06 05:08:34.973011');
INSERT INTO "deliveries" VALUES(6,3,'local','delivered',1,'2026-12-06 05:08:34.390628',NULL,NULL,'nw_7c0266c54e4da7e78471161d39962cf6','2026-12-06 05:08:34.390628','2026-12-06 05:08:34.841106');
INSERT INTO "deliveries" VALUES(7,4,'receiver','delivered',1,'2026-12-06 05:08:34.403446',NULL,NULL,'nw_9d985d1227c19684ffb39ea5cb3ebc07','2026-12-06 05:08:34.403446','2026-12-06 05:08:34.989853');
INSERT INTO "deliveries" VALUES(8,4,'local','delivered',1,'2026-12-06 05:08:34.403446',NULL,NULL,'nw_130d316ce4d81c2e08ad642ade0081ed','2026-12-06 05:08:34.403446','2026-12-06 05:08:34.856907');
INSERT INTO "deliveries" VALUES(9,5,'local','pending',0,'2026-12-06 05:08:44.274264',NULL,NULL,'nw_bd523def16d6729a2be77d96924507a1','2026-12-06 05:08:44.274264',NULL);
CREATE TABLE delivery_attempts (
	id INTEGER NOT NULL, 
	channel VARCHAR(100) NOT NULL, 
	message_id VARCHAR(80) NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME NOT NULL, 
	outcome VARCHAR(20) NOT NULL, 
	status INTEGER, 
	detail TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO "delivery_attempts" VALUES(1,'local','nw_71acfcbd07a41f028de6c3611c153cba','2026-12-06 05:08:34.762460','2026-12-06 05:08:34.774033','delivered',NULL,'appended to alerts.jsonl');
INSERT INTO "delivery_attempts" VALUES(2,'local','nw_3a19f813f098b0d230447f1892550a7d','2026-12-06 05:08:34.810825','2026-12-06 05:08:34.821260','delivered',NULL,'appended to alerts.jsonl');
INSERT INTO "delivery_attempts" VALUES(3,'local','nw_7c0266c54e4da7e78471161d39962cf6','2026-12-06 05:08:34.837368','2026-12-06 05:08:34.841106','delivered',NULL,'appended to alerts.jsonl');
INSERT INTO "delivery_attempts" VALUES(4,'local','nw_130d316ce4d81c2e08ad642ade0081ed','2026-12-06 05:08:34.852959','2026-12-06 05:08:34.856907','delivered',NULL,'appended to alerts.jsonl');
INSERT INTO "delivery_attempts" VALUES(5,'receiver','nw_f3f295e957a07af20afa29f19227ac0d','2026-12-06 05:08:34.718861','2026-12-06 05:08:34.849448','delivered',NULL,'HTTP 204 No Content');
INSERT INTO "delivery_attempts" VALUES(6,'receiver','nw_9757df22e7be731e8c1a49b948109fee','2026-12-06 05:08:34.916046','2026-12-06 05:08:34.921158','delivered',NULL,'HTTP 204 No Content');
INSERT INTO "delivery_attempts" VALUES(7,'receiver','nw_e5eefdeb9bbe4ded6992eff116be128f','2026-12-06 05:08:34.936900','2026-12-06 05:08:34.973011','delivered',NULL,'HTTP 204 No Content');
INSERT INTO "delivery_attempts" VALUES(8,'receiver','nw_9d985d1227c19684ffb39ea5cb3ebc07','2026-12-06 05:08:34.984149','2026-12-06 05:08:34.989853','delivered',NULL,'HTTP 204 No Content');
CREATE TABLE digest_members (
	delivery_id INTEGER NOT NULL, 
	digest_id INTEGER NOT NULL, 
	PRIMARY KEY (delivery_id), 
	FOREIGN KEY(delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE, 
	FOREIGN KEY(digest_id) REFERENCES digests (id) ON DELETE CASCADE
);
CREATE TABLE digests (
	id INTEGER NOT NULL, 
	message_id VARCHAR(80) NOT NULL, 
	channel VARCHAR(100) NOT NULL, 
	reason VARCHAR(40) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (message_id)
);
CREATE TABLE hits (
	id INTEGER NOT NULL, 
	article_id INTEGER NOT NULL, 
	watch VARCHAR(200) NOT NULL, 
	term TEXT NOT NULL, 
	start INTEGER NOT NULL, 
	"end" INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	snippet TEXT NOT NULL, 
	flags TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(article_id) REFERENCES articles (id) ON DELETE CASCADE
);
INSERT INTO "hits" VALUES(1,4,'quan-hai-ba-trung','quận Hai Bà Trưng',0,17,'Quận Hai Bà Trưng','Quận Hai Bà Trưng cần mạnh dạn, quyết liệt tạo đột phá phát triển kinh tế','in_title');
INSERT INTO "hits" VALUES(2,4,'quan-hai-ba-trung','Quận ủy Hai Bà Trưng',156,176,'Quận ủy Hai Bà Trưng','Chiều qua, Phó Bí thư Thành ủy Hà Nội Nguyễn Văn Phong làm việc với Ban Thường vụ Quận ủy Hai Bà Trưng về kết quả thực hiện nhiệm vụ năm và phương hướng thời gian tới.','');
INSERT INTO "hits" VALUES(3,4,'quan-hai-ba-trung','quận Hai Bà Trưng',927,944,'quận Hai Bà Trưng','Phát biểu chỉ đạo, Phó Bí thư Thành ủy Nguyễn Văn Phong đề nghị quận Hai Bà Trưng mạnh dạn, quyết liệt hơn nữa để tạo đột phá trong phát triển kinh tế, nhất là thương mại,…','');
INSERT INTO "hits" VALUES(4,4,'nguyen-van-phong','Nguyễn Văn Phong',112,128,'Nguyễn Văn Phong','Chiều qua, Phó Bí thư Thành ủy Hà Nội Nguyễn Văn Phong làm việc với Ban Thường vụ Quận ủy Hai Bà Trưng về kết quả thực hiện nhiệm vụ năm và phương…','');
INSERT INTO "hits" VALUES(5,4,'nguyen-van-phong','Nguyễn Văn Phong',902,918,'Nguyễn Văn Phong','Phát biểu chỉ đạo, Phó Bí thư Thành ủy Nguyễn Văn Phong đề nghị quận Hai Bà Trưng mạnh dạn, quyết liệt hơn nữa để tạo đột phá trong phát triển kinh…','');
INSERT INTO "hits" VALUES(6,4,'duong-duc-tuan','Dương Đức Tuấn',295,309,'Dương Đức Tuấn','Cùng dự buổi làm việc có Phó Chủ tịch UBND thành phố Dương Đức Tuấn, lãnh đạo một số sở, ngành của Hà Nội. Về phía quận có Bí thư Quận ủy Nguyễn Văn Nam, Chủ…','');
INSERT INTO "hits" VALUES(7,5,'quan-hai-ba-trung','phường Bạch Mai',0,15,'PHƯỜNG BẠCH MAI','PHƯỜNG BẠCH MAI RA MẮT MÔ HÌNH TỔ DÂN PHỐ SỐ','all_caps,in_title');
INSERT INTO "hits" VALUES(8,5,'quan-hai-ba-trung','phường Bạch Mai',45,60,'Phường Bạch Mai','Phường Bạch Mai (Hà Nội) vừa ra mắt mô hình tổ dân phố số, giúp người dân nhận thông báo và phản ánh kiến nghị ngay trên điện thoại.','');
INSERT INTO "hits" VALUES(9,5,'quan-hai-ba-trung','phường Bạch Mai',230,245,'phường Bạch Mai','Sau khi sắp xếp đơn vị hành chính từ ngày 1/7/2025, phường Bạch Mai được thành lập trên cơ sở một phần địa giới của quận Hai Bà Trưng cũ. Chính quyền phường xác…','');
INSERT INTO "hits" VALUES(10,5,'quan-hai-ba-trung','quận Hai Bà Trưng',294,311,'quận Hai Bà Trưng','…chính từ ngày 1/7/2025, phường Bạch Mai được thành lập trên cơ sở một phần địa giới của quận Hai Bà Trưng cũ. Chính quyền phường xác định chuyển đổi số là nhiệm vụ trọng tâm.','');
INSERT INTO "hits" VALUES(11,6,'nguyen-van-phong','Nguyễn Văn Phong',20,36,'Nguyễn Văn Phong','Phó Bí thư Thường trực Thành uỷ Nguyễn Văn Phong dự lễ','');
CREATE TABLE http_cache (
	url TEXT NOT NULL, 
	source VARCHAR(100) NOT NULL, 
	etag TEXT, 
	last_modified TEXT, 
	body_hash VARCHAR(64), 
	checked_at DATETIME NOT NULL, 
	PRIMARY KEY (url)
);
INSERT INTO "http_cache" VALUES('http://127.0.0.1:42841/thoi-su','tintudo-demo','"504d62ee60591a025e3c"','Sun, 06 Dec 2026 05:08:34 GMT','504d62ee60591a025e3ce6e7d2c5e995f0baee6828dd7f630fae3bdd0ccd09d1','2026-12-06 05:08:34.407998');
INSERT INTO "http_cache" VALUES('http://127.0.0.1:42841/rss/home.rss','tintudo-demo','"f3ff8a1e6011d12a26e2"','Sun, 06 Dec 2026 05:08:34 GMT','f3ff8a1e6011d12a26e2f04fcc8886cae59f4668b91c957debd2f271742c2b90','2026-12-06 05:08:34.411062');
INSERT INTO "http_cache" VALUES('http://127.0.0.1:42841/xa-hoi','tintudo-demo','"64b8bc76b754c8c6ba2b"','Sun, 06 Dec 2026 05:08:34 GMT','64b8bc76b754c8c6ba2b43f63cb05c51e9ec727dc63e9c39eda0b3b1e6ff93ec','2026-12-06 05:08:34.412401');
INSERT INTO "http_cache" VALUES('http://127.0.0.1:42841/','tintudo-demo','"963d737a6cf513eadd0e"','Sun, 06 Dec 2026 05:08:34 GMT','963d737a6cf513eadd0e46fc4f4cdf2b116242e04de550cf173e281fa0a73f4a','2026-12-06 05:08:34.413739');
CREATE TABLE notice_deliveries (
	id INTEGER NOT NULL, 
	notice_id INTEGER NOT NULL, 
	channel VARCHAR(100) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt DATETIME NOT NULL, 
	lease_until DATETIME, 
	last_error TEXT, 
	message_id VARCHAR(80) NOT NULL, 
	created_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_notice_delivery_channel UNIQUE (notice_id, channel), 
	FOREIGN KEY(notice_id) REFERENCES notices (id) ON DELETE CASCADE, 
	UNIQUE (message_id)
);
INSERT INTO "notice_deliveries" VALUES(1,1,'local','pending',0,'2026-12-06 05:08:44.281613',NULL,NULL,'nw_135e268b1f014fdf47b74e84facaeb64','2026-12-06 05:08:44.281613',NULL);
CREATE TABLE notices (
	id INTEGER NOT NULL, 
	"key" VARCHAR(200) NOT NULL, 
	title TEXT NOT NULL, 
	text TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE ("key")
);
INSERT INTO "notices" VALUES(1,'stale:demo','Nguồn demo không có bài mới','Không có bài mới trong 48 giờ','2026-12-06 05:08:44.281613');
CREATE TABLE runs (
	id INTEGER NOT NULL, 
	source VARCHAR(100) NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	status VARCHAR(20) NOT NULL, 
	requests INTEGER NOT NULL, 
	fetched INTEGER NOT NULL, 
	new_articles INTEGER NOT NULL, 
	alerts INTEGER NOT NULL, 
	errors INTEGER NOT NULL, 
	bytes INTEGER NOT NULL, 
	detail TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO "runs" VALUES(1,'tintudo-demo','2026-12-06 05:08:34.093538','2026-12-06 05:08:34.417568','ok',10,10,5,4,0,25752,'{"error": null, "not_modified": 0}');
INSERT INTO "runs" VALUES(2,'tintudo-demo','2026-12-06 05:08:35.832569','2026-12-06 05:08:35.942327','ok',5,5,0,0,0,1093,'{"error": null, "not_modified": 4}');
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO "schema_version" VALUES(1,'2026-12-06 05:08:33.163811');
INSERT INTO "schema_version" VALUES(2,'2026-12-06 05:08:33.177990');
INSERT INTO "schema_version" VALUES(3,'2026-12-06 05:08:33.182251');
CREATE TABLE seen_urls (
	url TEXT NOT NULL, 
	article_id INTEGER, 
	seen_at DATETIME NOT NULL, 
	PRIMARY KEY (url), 
	FOREIGN KEY(article_id) REFERENCES articles (id) ON DELETE SET NULL
);
INSERT INTO "seen_urls" VALUES('http://127.0.0.1:42841/hai-ba-trung-bay-hang-tet-o-cho-dong-xuan-250002.html',1,'2026-12-06 05:08:34.374359');
INSERT INTO "seen_urls" VALUES('http://127.0.0.1:42841/sua-chua-mat-duong-hai-ba-trung-o-trung-tam-tp-ho-chi-minh-250003.html',2,'2026-12-06 05:08:34.382387');
INSERT INTO "seen_urls" VALUES('http://127.0.0.1:42841/ha-noi-du-bao-ret-dam-keo-dai-den-cuoi-tuan-250005.html',3,'2026-12-06 05:08:34.387013');
INSERT INTO "seen_urls" VALUES('http://127.0.0.1:42841/quan-hai-ba-trung-can-manh-dan-quyet-liet-tao-dot-pha-phat-trien-kinh-te-250001.html',4,'2026-12-06 05:08:34.391798');
INSERT INTO "seen_urls" VALUES('http://127.0.0.1:42841/phuong-bach-mai-ra-mat-mo-hinh-to-dan-pho-so-250004.html',5,'2026-12-06 05:08:34.404957');
INSERT INTO "seen_urls" VALUES('http://127.0.0.1/pending-1.html',6,'2026-12-06 05:08:44.277451');
CREATE TABLE sources (
	name VARCHAR(100) NOT NULL, 
	last_run_at DATETIME, 
	last_status VARCHAR(20), 
	last_success_at DATETIME, 
	last_new_at DATETIME, 
	consecutive_failures INTEGER NOT NULL, 
	last_error TEXT, 
	alarm VARCHAR(20), 
	PRIMARY KEY (name)
);
INSERT INTO "sources" VALUES('tintudo-demo','2026-12-06 05:08:35.942327','ok','2026-12-06 05:08:35.942327','2026-12-06 05:08:34.417568',0,NULL,NULL);
CREATE INDEX ix_runs_source ON runs (source);
CREATE INDEX ix_articles_content_hash ON articles (content_hash);
CREATE INDEX ix_articles_source ON articles (source);
CREATE INDEX ix_hits_article_watch ON hits (article_id, watch);
CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt);
CREATE INDEX ix_delivery_attempts_message_id ON delivery_attempts (message_id);
CREATE INDEX ix_delivery_attempts_channel ON delivery_attempts (channel);
CREATE INDEX ix_digest_members_digest_id ON digest_members (digest_id);
CREATE INDEX ix_notice_deliveries_due ON notice_deliveries (status, next_attempt);
COMMIT;
